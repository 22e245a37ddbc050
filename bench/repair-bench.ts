/**
 * Benchmark of verified repair: how many one-bug programs get a fix that passes every expectation.
 *
 *   npm run bench:repair -- [--limit N] [--max-candidates N] [--budget SECONDS] [--timeout SECONDS]
 *                           [--python PATH] [--no-quixbugs]
 *
 * Programs: the 32 committed in bench/repair/ (each with one bug, named with its line in a `# bug:`
 * header, and 3-6 asserts in its __main__ block, some passing, some failing), then, when
 * ../shared/data/quixbugs/ exists, QuixBugs' Python programs (MIT) with their JSON test cases (up to
 * 12 each; the graph programs, whose tests build Node objects, and the generators cannot be replayed as
 * literal calls and are counted apart). Each program is repaired as `neural-debug fix` does, stopping at
 * its first verified fix. Printed per set: programs with a failing expectation, those given a verified
 * fix, those whose fix is on the bug's own line (where the line is known), candidates run, and the time
 * to the first fix.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { benchArgs } from './bench-args';
import { Expectation, findExpectations } from '../src/repair/expectations';
import { repairProgram } from '../src/repair/repair';
import { scanPython } from '../src/trace/pysource';

const ROOT = path.resolve(__dirname, '..', '..');
const OURS = path.join(ROOT, 'bench', 'repair');
const QUIXBUGS = path.resolve(ROOT, '..', 'shared', 'data', 'quixbugs');
const MAX_CASES = 12;

interface Program {
  readonly set: 'ours' | 'quixbugs';
  readonly name: string;
  readonly file: string;
  readonly text: string;
  readonly expectations: readonly Expectation[];
  /** The bug's line, where the program says. */
  readonly bugLine?: number;
  /** Why it cannot be run here. */
  readonly skip?: string;
}

interface Options {
  readonly limit: number;
  readonly maxCandidates: number;
  readonly budget: number;
  readonly timeout: number;
  readonly python?: string;
  readonly quixbugs: boolean;
}

function parseOptions(argv: readonly string[]): Options {
  const { value, number, flag } = benchArgs(argv);

  const python = value('--python');
  return { limit: number('--limit', Infinity), maxCandidates: number('--max-candidates', 150), budget: number('--budget', 60), timeout: number('--timeout', 2), ...(python ? { python } : {}), quixbugs: !flag('--no-quixbugs') };
}

function ourPrograms(limit: number): Program[] {
  return fs.readdirSync(OURS).filter((name) => name.endsWith('.py')).sort().slice(0, limit).map((name) => {
    const file = path.join(OURS, name);
    const text = fs.readFileSync(file, 'utf8');
    const line = /^# bug:.*\(line (\d+)\)/m.exec(text);
    return { set: 'ours', name: name.replace(/\.py$/, ''), file, text, expectations: findExpectations(text), ...(line ? { bugLine: Number(line[1]) } : {}) };
  });
}

/** A JSON test value as Python literal text. */
function pythonLiteral(value: unknown): string {
  if (value === null) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : String(value).includes('e') || String(value).includes('.') ? String(value) : `${value}.0`;
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(pythonLiteral).join(', ')}]`;
  return `{${Object.entries(value as Record<string, unknown>).map(([key, item]) => `${JSON.stringify(key)}: ${pythonLiteral(item)}`).join(', ')}}`;
}

function quixbugsPrograms(limit: number): Program[] {
  const dir = path.join(QUIXBUGS, 'python_programs');
  const names = fs.readdirSync(dir).filter((name) => name.endsWith('.py') && !name.endsWith('_test.py') && name !== 'node.py').sort().slice(0, limit);
  return names.map((name) => {
    const file = path.join(dir, name);
    const text = fs.readFileSync(file, 'utf8');
    const fn = name.replace(/\.py$/, '');
    const cases = path.join(QUIXBUGS, 'json_testcases', `${fn}.json`);
    const base = { set: 'quixbugs' as const, name: fn, file, text };
    if (!fs.existsSync(cases)) return { ...base, expectations: [], skip: 'its tests build Node graphs (no literal test cases)' };
    if (scanPython(text).lines.some((line) => /\byield\b/.test(line))) return { ...base, expectations: [], skip: 'a generator (its tests compare list(...) of it)' };
    const expectations = fs.readFileSync(cases, 'utf8').split('\n').filter((line) => line.trim() !== '').slice(0, MAX_CASES).map((line, row): Expectation => {
      const [args, expected] = JSON.parse(line) as [unknown, unknown];
      const list = Array.isArray(args) ? args : [args];
      return { function: fn, args: list.map(pythonLiteral).join(', '), kind: 'equal', expected: pythonLiteral(expected), origin: 'test', line: row + 1, file: cases };
    });
    return { ...base, expectations };
  });
}

interface Outcome {
  readonly program: Program;
  readonly failing: boolean;
  readonly fixed: boolean;
  readonly onBugLine?: boolean;
  readonly tried: number;
  readonly firstFix?: number;
  readonly seconds: number;
}

const median = (values: readonly number[]): string => {
  if (values.length === 0) return '—';
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return `${(sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2).toFixed(1)} s`;
};

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const programs = ourPrograms(options.limit);
  if (options.quixbugs) {
    if (fs.existsSync(QUIXBUGS)) programs.push(...quixbugsPrograms(options.limit));
    else console.log(`QuixBugs skipped: ${QUIXBUGS} is not there (it is read from ../shared/data, never committed)`);
  }
  console.log(`repair benchmark: ${programs.length} programs; up to ${options.maxCandidates} candidates and ${options.budget} s each, ${options.timeout} s a run; stops at the first verified fix\n`);
  const outcomes: Outcome[] = [];
  for (const program of programs) {
    if (program.skip) {
      console.log(`${program.set.padEnd(8)} ${program.name.padEnd(28)} skipped: ${program.skip}`);
      continue;
    }
    const report = await repairProgram(program.text, program.expectations, {
      programPath: program.file,
      ...(options.python ? { python: options.python } : {}),
      timeoutSeconds: options.timeout,
      maxCandidates: options.maxCandidates,
      timeBudgetSeconds: options.budget,
      maxFixes: 1,
    });
    const fix = report.fixes[0];
    const outcome: Outcome = {
      program,
      failing: report.target !== undefined,
      fixed: fix !== undefined,
      ...(fix && program.bugLine !== undefined ? { onBugLine: fix.line === program.bugLine } : {}),
      tried: report.tried,
      ...(report.secondsToFirstFix !== undefined ? { firstFix: report.secondsToFirstFix } : {}),
      seconds: report.seconds,
    };
    outcomes.push(outcome);
    const failing = report.before.filter((result) => !result.passed).length;
    const what = !outcome.failing ? `all ${report.before.length} expectations pass` : fix ? `fixed (${fix.change}) after ${report.tried} candidates, ${report.secondsToFirstFix?.toFixed(1)} s${outcome.onBugLine === false ? ' — not on the bug\'s line' : ''}` : `no verified fix in ${report.tried} of ${report.candidates} candidates`;
    console.log(`${program.set.padEnd(8)} ${program.name.padEnd(28)} ${failing}/${report.before.length} failing: ${what}`);
  }
  console.log('\n| programs | run | with a failing expectation | verified fix | fix on the bug\'s line | candidates run (mean) | time to first fix (median) | total time |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const set of ['ours', 'quixbugs'] as const) {
    const all = programs.filter((program) => program.set === set);
    if (all.length === 0) continue;
    const ran = outcomes.filter((outcome) => outcome.program.set === set);
    const failing = ran.filter((outcome) => outcome.failing);
    const fixed = failing.filter((outcome) => outcome.fixed);
    const onLine = fixed.filter((outcome) => outcome.onBugLine).length;
    const knownLine = fixed.filter((outcome) => outcome.onBugLine !== undefined).length;
    const mean = failing.length ? (failing.reduce((sum, outcome) => sum + outcome.tried, 0) / failing.length).toFixed(1) : '—';
    const label = set === 'ours' ? 'bench/repair (committed)' : 'QuixBugs (../shared/data)';
    console.log(`| ${label} | ${ran.length} of ${all.length} | ${failing.length} | ${fixed.length} (${failing.length ? ((100 * fixed.length) / failing.length).toFixed(0) : 0} %) | ${knownLine ? `${onLine} of ${knownLine}` : '—'} | ${mean} | ${median(fixed.map((outcome) => outcome.firstFix ?? 0))} | ${ran.reduce((sum, outcome) => sum + outcome.seconds, 0).toFixed(0)} s |`);
  }
}

main().catch((error: unknown) => {
  console.error(`bench:repair: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
