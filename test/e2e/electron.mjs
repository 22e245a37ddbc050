#!/usr/bin/env node
// The same end-to-end suites in a desktop VS Code, through @vscode/test-electron, for machines that can
// download VS Code (it fetches it from update.code.visualstudio.com into .vscode-test/; offline that
// download fails). Same suite entry (out/test/e2e/suite/index.js), same environment contract, same
// results file; there is no screenshot handshake here, so the suite skips its screenshots.
//
//   node test/e2e/electron.mjs [--suite all|main|untrusted|smoke] [--version stable|insiders|1.90.0]
//                              [--vscode PATH_TO_CODE] [--timeout SECONDS]
//
// On Linux without a display run it under a virtual one: xvfb-run -a node test/e2e/electron.mjs
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { prepareRun, readResults, requireBuilt, ROOT, TESTS_ENTRY } from './workspace.mjs';

const require = createRequire(import.meta.url);
const started = Date.now();

function parseArgs(argv) {
  const options = { suite: 'all', version: 'stable', vscode: undefined, timeout: 600 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => argv[++i] ?? usage(`${arg} needs a value`);
    if (arg === '--suite') options.suite = value();
    else if (arg === '--version') options.version = value();
    else if (arg === '--vscode') options.vscode = path.resolve(value());
    else if (arg === '--timeout') options.timeout = Number(value());
    else usage(arg === '--help' || arg === '-h' ? undefined : `unknown argument ${arg}`);
  }
  if (!['all', 'main', 'untrusted', 'smoke'].includes(options.suite)) usage(`unknown suite ${options.suite}`);
  return options;
}

function usage(error) {
  const text = 'usage: node test/e2e/electron.mjs [--suite all|main|untrusted|smoke] [--version stable|insiders|X.Y.Z] [--vscode PATH] [--timeout SECONDS]';
  process[error ? 'stderr' : 'stdout'].write(`${error ? `${error}\n` : ''}${text}\n`);
  process.exit(error ? 2 : 0);
}

const options = parseArgs(process.argv.slice(2));
const log = (line) => process.stdout.write(`[e2e-electron ${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${line}\n`);
const cleanups = [];
async function cleanUp() {
  while (cleanups.length) {
    const { what, fn } = cleanups.pop();
    await Promise.resolve().then(fn).catch((error) => log(`clean-up "${what}": ${error.message}`));
  }
}
const hardTimeout = setTimeout(async () => {
  process.stderr.write(`\n[e2e-electron] HARD TIMEOUT after ${options.timeout} s (a first run includes downloading VS Code)\n`);
  await cleanUp();
  process.exit(1);
}, options.timeout * 1000);

requireBuilt();
if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
  log('warning: no DISPLAY: VS Code will not start without one; run under xvfb-run -a');
}
const { runTests, TestRunFailedError } = require('@vscode/test-electron');

async function runOnce({ suite, trust }) {
  const run = await prepareRun({ suite, trust, log, onCleanup: (what, fn) => cleanups.push({ what, fn }) });
  log(`${suite}: run folder ${run.tmp}`);
  const launchArgs = [
    run.workspace,
    '--user-data-dir', run.userData,
    '--extensions-dir', run.extensions,
    '--disable-extensions', // other extensions; the one under development still loads
    '--skip-welcome',
    '--skip-release-notes',
    '--disable-gpu',
    ...(trust ? [] : ['--disable-workspace-trust']),
    ...(process.platform === 'linux' && process.getuid?.() === 0 ? ['--no-sandbox'] : []),
  ];
  let code;
  const began = Date.now();
  try {
    code = await runTests({
      ...(options.vscode ? { vscodeExecutablePath: options.vscode } : { version: options.version }),
      extensionDevelopmentPath: ROOT,
      extensionTestsPath: TESTS_ENTRY,
      extensionTestsEnv: { ...run.env, NEURAL_DEBUG_E2E_EXTENSION_PATH: ROOT },
      launchArgs,
    });
  } catch (error) {
    code = error instanceof TestRunFailedError ? error.code ?? 1 : undefined;
    if (code === undefined) log(`${suite}: VS Code could not be run: ${error instanceof Error ? error.message : String(error)}`);
  }
  const seconds = ((Date.now() - began) / 1000).toFixed(1);
  const { text, passed } = readResults(run.results);
  const ok = code === 0 && passed && !fs.existsSync(run.marker);
  process.stdout.write(`\n----- ${suite} suite (${seconds} s) -----\n${ok ? text.split('\nlog:\n')[0] : text}`);
  await cleanUp();
  if (ok) fs.rmSync(run.tmp, { recursive: true, force: true });
  else log(`${suite}: FAILED (exit code ${code ?? 'none'}); kept ${run.tmp}`);
  return { suite, ok, seconds };
}

const plan = options.suite === 'all'
  ? [{ suite: 'main', trust: false }, { suite: 'untrusted', trust: true }]
  : [{ suite: options.suite, trust: options.suite === 'untrusted' }];
const outcomes = [];
try {
  for (const item of plan) outcomes.push(await runOnce(item));
} catch (error) {
  process.stderr.write(`[e2e-electron] ERROR: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  outcomes.push({ suite: 'setup', ok: false, seconds: '-' });
} finally {
  await cleanUp();
  clearTimeout(hardTimeout);
}
process.stdout.write(`\n[e2e-electron] ${outcomes.map((o) => `${o.suite}: ${o.ok ? 'passed' : 'FAILED'} (${o.seconds} s)`).join(', ')}\n`);
process.exit(outcomes.length > 0 && outcomes.every((o) => o.ok) ? 0 : 1);
