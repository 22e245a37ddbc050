#!/usr/bin/env node
// Sets up a real VS Code for the end-to-end suite, offline (only the npm registry and Debian's apt
// repositories are needed), into .e2e/ at the repository root:
//   - Debian's chromium (drives the workbench) and libkrb5-dev (code-server's native build), via apt,
//     only when missing; `apt-get update` only when the install fails without it;
//   - Node 24 from the npm package node-<platform>-<arch> (binary and headers; it does not shadow the
//     system node: it is only ever called by path);
//   - code-server (VS Code with its real Node extension host), installed with that Node 24 first on
//     PATH and npm_config_nodedir pointing at its headers (a ~/.npmrc `nodedir` may point elsewhere).
// Each step is skipped when already done (checked on disk, and recorded in .e2e/setup.json).
// Usage: node test/e2e/setup.mjs [--force]
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const NODE_VERSION = '24.21.0';
export const CODE_SERVER_VERSION = '4.139.1';
export const APT_PACKAGES = ['chromium', 'libkrb5-dev'];

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const E2E_DIR = path.join(ROOT, '.e2e');
export const NODE_DIR = path.join(E2E_DIR, `node-${NODE_VERSION}`);
export const NODE_BIN = path.join(NODE_DIR, 'bin', 'node');
export const CODE_SERVER_DIR = path.join(E2E_DIR, `code-server-${CODE_SERVER_VERSION}`);
export const CODE_SERVER_ENTRY = path.join(CODE_SERVER_DIR, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
export const CHROMIUM = '/usr/bin/chromium';
const STAMP = path.join(E2E_DIR, 'setup.json');

/** Environment for anything run with Node 24: its bin first on PATH, its headers for native builds. */
// Variables a parent `npm run` exports (npm_config_*, npm_package_*, npm_lifecycle_*) are dropped, so a
// nested npm reads only its own folder's settings.
export function node24Env(base = process.env) {
  const clean = Object.fromEntries(Object.entries(base).filter(([name]) => !/^npm_/i.test(name)));
  return {
    ...clean,
    PATH: `${path.dirname(NODE_BIN)}${path.delimiter}${clean.PATH ?? ''}`,
    npm_config_nodedir: NODE_DIR,
    // code-server's dependencies need no downloads beyond the registry; keep npm quiet and offline-safe.
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    npm_config_update_notifier: 'false',
  };
}

function log(line) {
  process.stdout.write(`[e2e setup] ${line}\n`);
}

function seconds(since) {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.error) throw new Error(`${command} ${args.join(' ')}: ${result.error.message}`);
  return result.status ?? 1;
}

function mustRun(command, args, options = {}) {
  const status = run(command, args, options);
  if (status !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${status}`);
}

function readStamp() {
  try {
    return JSON.parse(fs.readFileSync(STAMP, 'utf8'));
  } catch {
    return {};
  }
}

function writeStamp(update) {
  fs.mkdirSync(E2E_DIR, { recursive: true });
  fs.writeFileSync(STAMP, `${JSON.stringify({ ...readStamp(), ...update }, null, 2)}\n`);
}

function aptInstalled(name) {
  const result = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' });
  return result.status === 0 && result.stdout.includes('install ok installed');
}

function aptPackages() {
  const missing = APT_PACKAGES.filter((name) => !aptInstalled(name));
  if (missing.length === 0 && fs.existsSync(CHROMIUM)) {
    log(`apt packages present: ${APT_PACKAGES.join(', ')}`);
    return;
  }
  if (process.platform !== 'linux' || spawnSync('apt-get', ['--version']).status !== 0) {
    throw new Error(`missing ${missing.join(', ')}, and this is not a Debian-like machine: install them by hand`);
  }
  const started = Date.now();
  const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
  const apt = (args) => run(sudo[0] ?? 'apt-get', [...(sudo.length ? ['apt-get'] : []), ...args], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  log(`installing with apt: ${missing.join(', ')}`);
  if (apt(['install', '-y', '-q', ...missing]) !== 0) {
    log('apt-get install failed; updating the package lists and trying again');
    if (apt(['update', '-q']) !== 0) throw new Error('apt-get update failed');
    if (apt(['install', '-y', '-q', ...missing]) !== 0) throw new Error(`apt-get install ${missing.join(' ')} failed`);
  }
  log(`apt packages installed in ${seconds(started)}`);
}

function nodeVersionOf(binary) {
  try {
    return execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

function node24() {
  if (nodeVersionOf(NODE_BIN) === `v${NODE_VERSION}` && fs.existsSync(path.join(NODE_DIR, 'include', 'node', 'node_api.h'))) {
    log(`Node ${NODE_VERSION} present (${path.relative(ROOT, NODE_DIR)})`);
    return;
  }
  const started = Date.now();
  const pkg = `node-${process.platform}-${process.arch}@${NODE_VERSION}`;
  log(`fetching ${pkg} with npm pack`);
  const download = fs.mkdtempSync(path.join(E2E_DIR, 'download-'));
  try {
    const name = execFileSync('npm', ['pack', pkg, '--silent', '--pack-destination', download], { encoding: 'utf8', cwd: download })
      .trim().split('\n').at(-1);
    fs.rmSync(NODE_DIR, { recursive: true, force: true });
    fs.mkdirSync(NODE_DIR, { recursive: true });
    mustRun('tar', ['-xzf', path.join(download, name), '-C', NODE_DIR, '--strip-components=1']);
  } finally {
    fs.rmSync(download, { recursive: true, force: true });
  }
  const version = nodeVersionOf(NODE_BIN);
  if (version !== `v${NODE_VERSION}`) throw new Error(`${NODE_BIN} reports ${version ?? 'nothing'}, expected v${NODE_VERSION}`);
  writeStamp({ node: NODE_VERSION });
  log(`Node ${NODE_VERSION} unpacked in ${seconds(started)}`);
}

/**
 * Environment for code-server: Node 24 first, and every XDG folder inside `home`, so that nothing
 * (a default config.yaml, coder-logs) is written into the user's home folder.
 */
export function codeServerEnv(home, base = process.env) {
  return {
    ...node24Env(base),
    XDG_CONFIG_HOME: path.join(home, 'xdg-config'),
    XDG_DATA_HOME: path.join(home, 'xdg-data'),
    XDG_CACHE_HOME: path.join(home, 'xdg-cache'),
    XDG_STATE_HOME: path.join(home, 'xdg-state'),
  };
}

function codeServerVersion() {
  if (!fs.existsSync(CODE_SERVER_ENTRY)) return undefined;
  const home = fs.mkdtempSync(path.join(E2E_DIR, 'probe-'));
  try {
    const args = [CODE_SERVER_ENTRY, '--config', path.join(home, 'config.yaml'), '--user-data-dir', path.join(home, 'data'), '--version'];
    const output = execFileSync(NODE_BIN, args, { encoding: 'utf8', env: codeServerEnv(home), timeout: 60_000 });
    // "4.139.1 <commit> with Code 1.139.1"
    return /^(\d+\.\d+\.\d+) /m.exec(output)?.[1];
  } catch {
    return undefined;
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
}

function codeServer() {
  const stamp = readStamp();
  if (stamp.codeServer === CODE_SERVER_VERSION && stamp.codeServerNode === NODE_VERSION && codeServerVersion() === CODE_SERVER_VERSION) {
    log(`code-server ${CODE_SERVER_VERSION} present (${path.relative(ROOT, CODE_SERVER_DIR)})`);
    return;
  }
  const started = Date.now();
  log(`installing code-server ${CODE_SERVER_VERSION} with Node ${NODE_VERSION} (compiles native modules; ~2 min)`);
  fs.rmSync(CODE_SERVER_DIR, { recursive: true, force: true });
  fs.mkdirSync(CODE_SERVER_DIR, { recursive: true });
  fs.writeFileSync(path.join(CODE_SERVER_DIR, 'package.json'), `${JSON.stringify({ name: 'e2e-code-server', private: true }, null, 2)}\n`);
  // The folder's own .npmrc wins over a user's ~/.npmrc for these settings.
  fs.writeFileSync(path.join(CODE_SERVER_DIR, '.npmrc'), `nodedir=${NODE_DIR}\nfund=false\naudit=false\nupdate-notifier=false\npackage-lock=false\n`);
  mustRun('npm', ['install', '--no-save', '--loglevel=warn', `code-server@${CODE_SERVER_VERSION}`], { cwd: CODE_SERVER_DIR, env: node24Env() });
  const version = codeServerVersion();
  if (version !== CODE_SERVER_VERSION) throw new Error(`code-server reports ${version ?? 'nothing'} after install, expected ${CODE_SERVER_VERSION}`);
  writeStamp({ codeServer: CODE_SERVER_VERSION, codeServerNode: NODE_VERSION });
  log(`code-server ${CODE_SERVER_VERSION} installed in ${seconds(started)}`);
}

export function setup({ force = false } = {}) {
  const started = Date.now();
  if (force) fs.rmSync(E2E_DIR, { recursive: true, force: true });
  fs.mkdirSync(E2E_DIR, { recursive: true });
  aptPackages();
  node24();
  codeServer();
  log(`ready in ${seconds(started)}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    setup({ force: process.argv.includes('--force') });
  } catch (error) {
    process.stderr.write(`[e2e setup] FAILED: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
