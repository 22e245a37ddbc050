/** Where tests find the repository, the shared data and the Python interpreters of this machine. */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

function findRepoRoot(from: string): string {
  let dir = from;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${from}`);
    dir = parent;
  }
  return dir;
}

export const REPO_ROOT = findRepoRoot(__dirname);
export const CLI = path.join(REPO_ROOT, 'dist', 'cli.js');
export const GOLDEN = path.join(REPO_ROOT, 'test', 'golden');
export const PROGRAMS = path.join(REPO_ROOT, 'test', 'fixtures', 'programs');
export const EXAMPLES = path.join(REPO_ROOT, 'examples');
/** The data that sits beside a checkout (never inside it): ../shared/data. */
export const SHARED_DATA = path.resolve(REPO_ROOT, '..', 'shared', 'data');

export interface Interpreter {
  readonly version: string;
  readonly path: string;
}

/**
 * Every Python 3.8+ under ~/.pyenv/versions, oldest first; where there is none, the default `python3`.
 * NEURAL_DEBUG_TEST_PYTHONS (paths separated by the path delimiter) overrides the search.
 */
export function testInterpreters(): Interpreter[] {
  const override = process.env.NEURAL_DEBUG_TEST_PYTHONS;
  if (override) return override.split(path.delimiter).filter(Boolean).map((p) => ({ version: p, path: p }));
  const root = path.join(os.homedir(), '.pyenv', 'versions');
  const found: Interpreter[] = [];
  for (const name of fs.existsSync(root) ? fs.readdirSync(root) : []) {
    const match = /^3\.(\d+)\.\d+$/.exec(name);
    const exe = path.join(root, name, 'bin', 'python');
    if (match && Number(match[1]) >= 8 && fs.existsSync(exe)) found.push({ version: name, path: exe });
  }
  found.sort((a, b) => compareVersions(a.version, b.version));
  return found.length > 0 ? found : [{ version: 'python3 on PATH', path: 'python3' }];
}

/** Interpreters under ~/.pyenv/versions that are too old for the tracer (to test the message). */
export function oldInterpreters(): Interpreter[] {
  const root = path.join(os.homedir(), '.pyenv', 'versions');
  if (!fs.existsSync(root)) return [];
  return fs.readdirSync(root)
    .filter((name) => /^(2\.\d+|3\.[0-7])\.\d+$/.test(name))
    .map((name) => ({ version: name, path: path.join(root, name, 'bin', 'python') }))
    .filter((interpreter) => fs.existsSync(interpreter.path));
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

let resolvedDefault: string | undefined;

/**
 * Which Python the single-interpreter suites use: NEURAL_DEBUG_PYTHON, else the interpreter behind
 * `python3`, resolved once (a pyenv shim costs ~120 ms a start, and the CruxEval suite starts 450).
 */
export function defaultPython(): string {
  if (process.env.NEURAL_DEBUG_PYTHON) return process.env.NEURAL_DEBUG_PYTHON;
  resolvedDefault ??= execFileSync('python3', ['-c', 'import sys; print(sys.executable)']).toString().trim();
  return resolvedDefault;
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}
