#!/usr/bin/env node
// The end-to-end suites in a real VS Code: code-server (set up by test/e2e/setup.mjs into .e2e/) with
// its real Node extension host, its workbench driven by Debian's chromium through playwright-core.
//
//   node test/e2e/run.mjs [--suite all|main|untrusted|smoke] [--vsix FILE|auto] [--keep] [--timeout SECONDS]
//
// Uses what `npm test` / `npm run build` built: the extension in dist/ and the compiled suites in
// out/test/e2e/suite/. Each run gets a fresh temporary folder (workspace, user data, extensions, logs)
// and a stand-in for CWM: `neural-debug serve`'s real HTTP server (startServer) whose model replays the
// real trace of the example with ONE deliberate mistake, so the predicted side diverges on purpose.
//   main       trusted workspace (--disable-workspace-trust): the extension loads, then a whole compare
//              session on sum_list.py (a screenshot mid-session to test-results/e2e/debug-session.png),
//              then ONNX Runtime in the extension host and a predict session on the ONNX fixture model.
//   untrusted  workspace trust on, the folder not trusted: nothing of the workspace's code runs (a cwm
//              launch included: VS Code asks for trust before any debug session starts).
//   all        main, then untrusted (the default).
//   --vsix F   install the VSIX F into the run's extensions folder with code-server --install-extension
//              and test the INSTALLED extension (main suite unless --suite says otherwise); `--vsix auto`
//              is what `npm run package` builds for this machine (neural-debugger-<version>-<os>-<arch>.vsix).
// Results: the suite writes them to a file ($NEURAL_DEBUG_E2E_RESULTS) that this prints; the exit code
// is non-zero when a step failed, the extension host failed, or the hard timeout (default 360 s) hit.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { CHROMIUM, CODE_SERVER_ENTRY, codeServerEnv, NODE_BIN } from './setup.mjs';
import { prepareRun, readResults, requireBuilt, ROOT, SCREENSHOTS, TESTS_ENTRY } from './workspace.mjs';

const require = createRequire(import.meta.url);
const started = Date.now();

// ---------------------------------------------------------------------------------------------- options
function parseArgs(argv) {
  const options = { suite: 'all', vsix: undefined, keep: false, timeout: 360 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === '--suite') options.suite = value();
    else if (arg === '--vsix') options.vsix = value();
    else if (arg === '--keep') options.keep = true;
    else if (arg === '--timeout') options.timeout = Number(value());
    else if (arg === '--help' || arg === '-h') usage();
    else usage(`unknown argument ${arg}`);
  }
  if (!['all', 'main', 'untrusted', 'smoke'].includes(options.suite)) usage(`unknown suite ${options.suite}`);
  if (!(options.timeout > 0)) usage('--timeout needs a number of seconds');
  if (options.vsix === 'auto') {
    // What `npm run package` builds for this machine: neural-debugger-<version>-<platform>-<arch>.vsix
    const { name, version } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    options.vsix = `${name}-${version}-${process.platform}-${process.arch}.vsix`;
  }
  if (options.vsix) options.vsix = path.resolve(ROOT, options.vsix);
  if (options.vsix && options.suite === 'all') options.suite = 'main';
  return options;
}

function usage(error) {
  const text = 'usage: node test/e2e/run.mjs [--suite all|main|untrusted|smoke] [--vsix FILE|auto] [--keep] [--timeout SECONDS]';
  if (error) {
    process.stderr.write(`${error}\n${text}\n`);
    process.exit(2);
  }
  process.stdout.write(`${text}\n`);
  process.exit(0);
}

const options = parseArgs(process.argv.slice(2));

function log(line) {
  process.stdout.write(`[e2e ${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${line}\n`);
}

// ------------------------------------------------------------------------- clean-up of everything started
/** Clean-ups of what is running now, last first; each is bounded so a stuck one cannot hang the runner. */
const cleanups = [];

async function cleanUp() {
  while (cleanups.length > 0) {
    const { what, fn } = cleanups.pop();
    try {
      await within(Promise.resolve().then(fn), 10_000, what);
    } catch (error) {
      log(`clean-up "${what}": ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

function within(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer after ${ms / 1000} s`)), ms))),
  ]).finally(() => clearTimeout(timer));
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let phase = 'starting';
/** The results file of the suite running now, to show how far it got should the run be cut short. */
let currentResults;
const hardTimeout = setTimeout(async () => {
  process.stderr.write(`\n[e2e] HARD TIMEOUT: the end-to-end run took more than ${options.timeout} s (it was ${phase}); killing everything\n`);
  if (currentResults) process.stderr.write(`how far the suite got (${currentResults}):\n${readResults(currentResults).text}\n`);
  await cleanUp();
  process.exit(1);
}, options.timeout * 1000);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, async () => {
    process.stderr.write(`\n[e2e] ${signal}: cleaning up\n`);
    await cleanUp();
    process.exit(130);
  });
}

// --------------------------------------------------------------------------------------------- checks
requireBuilt();
if (!fs.existsSync(CODE_SERVER_ENTRY) || !fs.existsSync(NODE_BIN) || !fs.existsSync(CHROMIUM)) {
  process.stderr.write('[e2e] code-server, Node 24 or chromium is missing: run node test/e2e/setup.mjs (npm run test:e2e does)\n');
  process.exit(1);
}
if (options.vsix && !fs.existsSync(options.vsix)) {
  process.stderr.write(`[e2e] ${options.vsix} does not exist: build it with npm run package\n`);
  process.exit(1);
}

// ------------------------------------------------------------------------------------------ code-server
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function get(url) {
  return new Promise((resolve) => {
    const request = http.get(url, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', () => resolve(0));
    request.setTimeout(2000, () => request.destroy());
  });
}

function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
    return true;
  } catch {
    return false;
  }
}

function groupAlive(pgid) {
  return spawnSync('pgrep', ['-g', String(pgid)], { encoding: 'utf8' }).stdout.trim().length > 0;
}

/** Starts code-server in its own process group; resolves once it answers HTTP. */
async function startCodeServer({ tmp, port, trust, env }) {
  const args = [
    CODE_SERVER_ENTRY,
    '--config', path.join(tmp, 'config.yaml'),
    '--user-data-dir', path.join(tmp, 'user-data'),
    '--extensions-dir', path.join(tmp, 'extensions'),
    '--bind-addr', `127.0.0.1:${port}`,
    '--auth', 'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    '--ignore-last-opened',
    '--vscode-option', 'enable-smoke-test-driver',
    ...(trust ? [] : ['--disable-workspace-trust']),
  ];
  fs.writeFileSync(path.join(tmp, 'config.yaml'), `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
  const logFile = path.join(tmp, 'code-server.log');
  const out = fs.openSync(logFile, 'a');
  const child = spawn(NODE_BIN, args, { cwd: tmp, env, detached: true, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  const pgid = child.pid;
  let exited;
  child.on('exit', (code, signal) => (exited = `${code ?? signal}`));
  cleanups.push({
    what: 'code-server',
    fn: async () => {
      killGroup(child, 'SIGTERM');
      for (let i = 0; i < 40 && groupAlive(pgid); i++) await sleep(100);
      if (groupAlive(pgid)) {
        log('code-server did not end on SIGTERM: SIGKILL');
        killGroup(child, 'SIGKILL');
        for (let i = 0; i < 20 && groupAlive(pgid); i++) await sleep(100);
      }
    },
  });
  const deadline = Date.now() + 30_000;
  while ((await get(`http://127.0.0.1:${port}/healthz`)) !== 200) {
    if (exited !== undefined) throw new Error(`code-server exited (${exited}) before it listened:\n${tail(logFile, 30)}`);
    if (Date.now() > deadline) throw new Error(`code-server did not answer on port ${port} within 30 s:\n${tail(logFile, 30)}`);
    await sleep(200);
  }
  return { child, logFile };
}

function tail(file, lines) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Installs a VSIX into the run's extensions folder; returns the installed extension's folder. */
function installVsix(vsix, tmp, env) {
  const extensions = path.join(tmp, 'extensions');
  const args = [CODE_SERVER_ENTRY, '--config', path.join(tmp, 'config.yaml'), '--user-data-dir', path.join(tmp, 'user-data'),
    '--extensions-dir', extensions, '--install-extension', vsix, '--force'];
  const began = Date.now();
  const result = spawnSync(NODE_BIN, args, { env, encoding: 'utf8', timeout: 60_000 });
  if (result.status !== 0) throw new Error(`installing ${vsix} failed (${result.status ?? result.signal}):\n${result.stdout}${result.stderr}`);
  const folder = fs.readdirSync(extensions).find((name) => name.startsWith('neural-debugger.neural-debugger-'));
  if (!folder) throw new Error(`${vsix} installed, but no neural-debugger.neural-debugger-* folder in ${extensions}: ${fs.readdirSync(extensions).join(', ')}`);
  log(`installed ${path.basename(vsix)} into ${path.join(extensions, folder)} in ${((Date.now() - began) / 1000).toFixed(1)} s`);
  return path.join(extensions, folder);
}

// -------------------------------------------------------------------------------------------- one run
/**
 * One code-server + one browser + one suite. Returns { ok, summary }.
 * `suite`: main | untrusted | smoke; `trust`: whether workspace trust is on (and the folder untrusted).
 */
async function runOnce({ suite, trust, vsix, shotPrefix }) {
  const mark = cleanups.length;
  phase = `${suite}: preparing the workspace and the stand-in model`;
  const run = await prepareRun({ suite, trust, log, onCleanup: (what, fn) => cleanups.push({ what, fn }) });
  const { tmp, workspace, results, marker, shotRequest, shotDone } = run;
  currentResults = results;
  log(`${suite}: run folder ${tmp}`);

  // code-server, and the extension it tests.
  const port = await freePort();
  const env = {
    ...codeServerEnv(path.join(tmp, 'home')),
    ...run.env,
    NEURAL_DEBUG_E2E_SCREENSHOT_REQUEST: shotRequest,
    NEURAL_DEBUG_E2E_SCREENSHOT_DONE: shotDone,
  };
  let extensionPath = ROOT;
  if (vsix) {
    phase = `${suite}: installing ${path.basename(vsix)}`;
    fs.writeFileSync(path.join(tmp, 'config.yaml'), 'auth: none\ncert: false\n');
    extensionPath = installVsix(vsix, tmp, env);
  }
  env.NEURAL_DEBUG_E2E_EXTENSION_PATH = extensionPath;
  phase = `${suite}: starting code-server`;
  const codeServer = await startCodeServer({ tmp, port, trust, env });
  log(`${suite}: code-server on 127.0.0.1:${port} (workspace trust ${trust ? 'on, folder not trusted' : 'disabled'})`);

  // The workbench, in headless chromium.
  phase = `${suite}: starting chromium`;
  const { chromium } = require('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Its crash-report folder and caches go into the run's folder, not the user's home.
    env: { ...process.env, HOME: path.join(tmp, 'home'), XDG_CONFIG_HOME: path.join(tmp, 'home', 'xdg-config'), XDG_CACHE_HOME: path.join(tmp, 'home', 'xdg-cache') },
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
  });
  cleanups.push({ what: 'chromium', fn: () => browser.close() });
  const page = await browser.newPage({ viewport: { width: 1500, height: 900 } });
  const consoleLines = [];
  page.on('console', (message) => {
    consoleLines.push(`[${message.type()}] ${message.text()}`);
    if (consoleLines.length > 200) consoleLines.shift();
  });
  page.on('pageerror', (error) => consoleLines.push(`[pageerror] ${error.message}`));
  let exit;
  const exited = new Promise((resolve) => (exit = resolve));
  await page.exposeFunction('codeAutomationExit', (code, logs) => {
    exit({ code, logs });
  });
  await page.exposeFunction('codeAutomationLog', (type, args) => {
    consoleLines.push(`[exthost ${type}] ${Array.isArray(args) ? args.join(' ') : String(args)}`);
  });

  // Screenshots the suite asks for (harness.ts's handshake).
  let handled = 0;
  const screenshots = [];
  let polling = true;
  const poller = (async () => {
    while (polling) {
      try {
        const request = JSON.parse(fs.readFileSync(shotRequest, 'utf8'));
        if (request.seq > handled) {
          handled = request.seq;
          fs.mkdirSync(SCREENSHOTS, { recursive: true });
          const file = path.join(SCREENSHOTS, `${shotPrefix}${request.name.replace(/[^\w.-]/g, '_')}.png`);
          await page.screenshot({ path: file });
          screenshots.push(file);
          log(`${suite}: screenshot ${path.relative(ROOT, file)}`);
          fs.writeFileSync(shotDone, JSON.stringify({ seq: request.seq, file }));
        }
      } catch (error) {
        if (error.code !== 'ENOENT' && !(error instanceof SyntaxError)) log(`${suite}: screenshot failed: ${error.message}`);
      }
      await sleep(100);
    }
  })();
  cleanups.push({ what: 'screenshot poller', fn: async () => { polling = false; await poller; } });

  const remote = (file) => `vscode-remote://127.0.0.1:${port}${file}`;
  const payload = [['extensionDevelopmentPath', remote(extensionPath)], ['extensionTestsPath', remote(TESTS_ENTRY)]];
  const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  phase = `${suite}: running the suite in the extension host`;
  const suiteStarted = Date.now();
  await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 30_000 });
  const suiteBudget = Math.max(10_000, options.timeout * 1000 - (Date.now() - started) - 15_000);
  let outcome;
  try {
    outcome = await within(exited, suiteBudget, 'the extension host');
  } catch (error) {
    outcome = { code: undefined, timeout: error.message };
  }
  const seconds = ((Date.now() - suiteStarted) / 1000).toFixed(1);

  // Report.
  const { text, passed } = readResults(results);
  const ok = outcome.code === 0 && passed;
  // The steps; the suite's log (what the adapter sent, step by step) only when something failed.
  const [steps, suiteLog] = text.split('\nlog:\n');
  process.stdout.write(`\n----- ${suite} suite (${seconds} s in the extension host) -----\n${steps}`);
  if (!ok && suiteLog) process.stdout.write(`\nthe suite's log:\n${suiteLog}`);
  if (!ok) {
    const why = outcome.timeout
      ? `the suite did not finish: ${outcome.timeout}`
      : outcome.code !== 0 ? `the extension host exited with code ${outcome.code}` : 'the results file is missing or incomplete';
    process.stdout.write(`\n[e2e] ${suite}: FAILED — ${why}\n`);
    // The workbench hands over its log files at exit: keep them beside the run's other files.
    for (const entry of [].concat(outcome.logs ?? [])) {
      if (!entry || typeof entry.relativePath !== 'string') continue;
      const file = path.join(tmp, 'workbench-logs', entry.relativePath.replace(/\.\.(\/|$)/g, ''));
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, String(entry.contents ?? ''));
    }
    const noise = /open-vsx|ENOTFOUND|Failed to fetch|\[e2e\]/;
    const errors = consoleLines.filter((line) => /^\[(error|pageerror|exthost error)\]/.test(line) && !noise.test(line)).map((line) => line.split('\n')[0]);
    if (errors.length) process.stdout.write(`errors in the workbench console:\n${[...new Set(errors)].slice(-10).join('\n')}\n`);
    process.stdout.write(`code-server log: ${codeServer.logFile}\nVS Code logs: ${path.join(tmp, 'user-data', 'logs')}, ${path.join(tmp, 'workbench-logs')}\n`);
  }

  // Clean up this run, and check nothing of it is left.
  phase = `${suite}: cleaning up`;
  while (cleanups.length > mark) {
    const { what, fn } = cleanups.pop();
    try {
      await within(Promise.resolve().then(fn), 10_000, what);
    } catch (error) {
      log(`clean-up "${what}": ${error.message}`);
    }
  }
  const left = spawnSync('pgrep', ['-f', tmp], { encoding: 'utf8' }).stdout.trim();
  if (left) {
    log(`${suite}: processes left behind (killing them): ${left.replace(/\n/g, ' ')}`);
    for (const pid of left.split('\n')) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  if (suite === 'untrusted' && fs.existsSync(marker)) {
    process.stdout.write(`[e2e] untrusted: FAILED — ${marker} exists: the untrusted program was executed\n`);
    return { ok: false, suite, seconds, screenshots };
  }
  if (ok && !options.keep) fs.rmSync(tmp, { recursive: true, force: true });
  else log(`${suite}: kept ${tmp} (logs, workspace, results)`);
  return { ok: ok && !left, suite, seconds, screenshots };
}

// ---------------------------------------------------------------------------------------------- main
const plan = options.suite === 'all'
  ? [{ suite: 'main', trust: false }, { suite: 'untrusted', trust: true }]
  : [{ suite: options.suite, trust: options.suite === 'untrusted' }];
const outcomes = [];
try {
  for (const item of plan) {
    outcomes.push(await runOnce({ ...item, vsix: options.vsix, shotPrefix: options.vsix ? 'vsix-' : '' }));
  }
} catch (error) {
  process.stderr.write(`\n[e2e] ERROR (${phase}): ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  outcomes.push({ ok: false, suite: phase, seconds: '-' });
} finally {
  await cleanUp();
  clearTimeout(hardTimeout);
}
const total = ((Date.now() - started) / 1000).toFixed(1);
process.stdout.write(`\n[e2e] ${outcomes.map((o) => `${o.suite}: ${o.ok ? 'passed' : 'FAILED'} (${o.seconds} s)`).join(', ')}; ${total} s in all${options.vsix ? ` (installed from ${path.basename(options.vsix)})` : ''}\n`);
const shots = outcomes.flatMap((o) => o.screenshots ?? []);
if (shots.length) process.stdout.write(`[e2e] screenshots: ${shots.map((file) => path.relative(ROOT, file)).join(', ')}\n`);
process.exit(outcomes.length > 0 && outcomes.every((o) => o.ok) ? 0 : 1);
