/** `neural-debug fix`: verified patches for a program whose expectations fail, as unified diffs. */
import * as path from 'node:path';
import { describeExpectation, Expectation, findExpectations, findTestExpectations, parseStatedExpectation } from '../repair/expectations';
import { checkLabel } from '../repair/check';
import { repairProgram } from '../repair/repair';
import { scanPython } from '../trace/pysource';
import { choiceOption, intOption, numberOption, OptionSpec, parseArgs, UsageError } from './args';
import { readSource, testFilesBeside } from './program-file';
import type { Io } from './trace-command';

export const FIX_USAGE = `usage: neural-debug fix FILE [options]

Finds what FILE is expected to do (its asserts about its own functions, its doctests, the calls it
makes, the asserts of test_*.py / *_test.py beside it that import it, and --expect), runs each for
real, and when one fails, tries small edits at and before the step where the failing run went wrong
first (off-by-one, comparison and boolean flips, operators, a variable of the same type, swapped
arguments, constants, a missing return). Each candidate runs against every expectation on a copy of
the program; only those that make the failing one pass and keep every passing one passing are
printed, as unified diffs. FILE itself is never changed.

  --expect TEXT      an expectation of your own, e.g. "total([1, 2]) == 3" (repeatable)
  --max-candidates N most candidates to run (default 300)
  --max-fixes N      stop after N verified fixes (default 3)
  --timeout SECONDS  each run's wall-clock limit (default 2)
  --format FORMAT    diff (default) | json
  --python PATH      interpreter (default: python3 on PATH)

Exit status: 0 a verified fix was found, or every expectation passes; 4 an expectation fails and no
candidate was verified; 1 FILE could not be read or nothing states what it should do; 2 a usage error;
130 interrupted.`;

const OPTIONS: OptionSpec[] = [
  ...['expect', 'max-candidates', 'max-fixes', 'timeout', 'format', 'python'].map((name) => ({ name, value: true })),
];

export async function fixCommand(argv: readonly string[], io: Io, onStop: (stop: () => void) => void): Promise<number> {
  const args = parseArgs(argv, OPTIONS);
  if (args.positional.length !== 1) throw new UsageError(args.positional.length === 0 ? 'fix needs a FILE' : `fix takes one FILE, not ${args.positional.length}`);
  const file = args.positional[0];
  const format = choiceOption(args, 'format', ['diff', 'json'] as const, 'diff');
  const text = readSource(file, io);
  if (text === undefined) return 1;
  const names = new Set(scanPython(text).functions.filter((fn) => fn.parent === undefined && !fn.isClass).map((fn) => fn.name));
  const stated: Expectation[] = [];
  for (const expect of args.values.get('expect') ?? []) {
    const parsed = parseStatedExpectation(expect, names);
    if (!parsed) throw new UsageError(`--expect "${expect}" is not CALL == VALUE (or CALL) with a top-level function of ${path.basename(file)} and literal arguments`);
    stated.push(parsed);
  }
  const expectations = [...stated, ...findExpectations(text), ...testExpectationsBeside(file, [...names])];
  if (expectations.length === 0) {
    io.err(`neural-debug: ${file}: nothing states what it should do (no assert about its functions, no doctest, no call, no test beside it); add --expect "f(ARGS) == VALUE"\n`);
    return 1;
  }
  const python = args.options.get('python');
  const controller = new AbortController();
  onStop(() => controller.abort());
  io.err(`neural-debug: ${expectations.length} expectation${expectations.length === 1 ? '' : 's'}: ${expectations.map(describeExpectation).join('; ')}\n`);
  const report = await repairProgram(text, expectations, {
    programPath: file,
    fileLabel: path.basename(file),
    ...(python ? { python } : {}),
    timeoutSeconds: numberOption(args, 'timeout', 0.1) ?? 2,
    maxCandidates: intOption(args, 'max-candidates', 1) ?? 300,
    maxFixes: intOption(args, 'max-fixes', 1) ?? 3,
    signal: controller.signal,
    onProgress: (tried, total, fixes) => {
      if (tried % 25 === 0) io.err(`neural-debug: ${tried}/${total} candidates run, ${fixes} verified\n`);
    },
  });
  if (controller.signal.aborted) {
    io.err('neural-debug: interrupted\n');
    return 130;
  }
  for (const result of report.before) io.err(`neural-debug:   ${checkLabel(result)}\n`);
  if (format === 'json') {
    io.out(JSON.stringify({
      checks: report.before.map((result) => ({ expectation: describeExpectation(result.expectation), origin: result.expectation.origin, line: result.expectation.line, passed: result.passed, outcome: result.outcome })),
      fixes: report.fixes.map((fix) => ({ line: fix.line, change: fix.change, summary: fix.summary, fixed: fix.fixed, diff: fix.diff })),
      candidates: report.candidates,
      tried: report.tried,
      secondsToFirstFix: report.secondsToFirstFix ?? null,
      seconds: Number(report.seconds.toFixed(2)),
      ...(report.note ? { note: report.note } : {}),
    }) + '\n');
  } else {
    for (const fix of report.fixes) io.out(`# ${fix.change}: ${fix.summary}\n${fix.diff}`);
  }
  if (report.note) {
    io.err(`neural-debug: ${report.note}; nothing to fix\n`);
    return 0;
  }
  const first = report.secondsToFirstFix === undefined ? '' : `, the first after ${report.secondsToFirstFix.toFixed(1)} s`;
  io.err(`neural-debug: ${report.fixes.length} verified fix${report.fixes.length === 1 ? '' : 'es'} for ${report.target ? describeExpectation(report.target.expectation) : '?'} (${report.tried} of ${report.candidates} candidates run${first})\n`);
  return report.fixes.length > 0 ? 0 : 4;
}

/** The asserts of the test files beside `file` that import it. */
function testExpectationsBeside(file: string, names: readonly string[]): Expectation[] {
  const moduleName = path.basename(file).replace(/\.py$/, '');
  return testFilesBeside(file).flatMap((test) => findTestExpectations(test.text, test.path, moduleName, names));
}
