/**
 * Trace-guided repair. The first failing expectation is traced; the lines it ran, nearest to where it
 * went wrong first (the exception, else the return), are mutated one small edit at a time (mutations.ts,
 * variables swapped only for others of the same type at that line in the real trace); each candidate
 * is run for real against every expectation: it must pass the failing one and every one that passed
 * before. Only those are offered, each saying what it fixed.
 */
import { boundNames } from '../predictor/bound-names';
import { RecordedFrame } from '../trace/frame';
import { scanPython, splitLines } from '../trace/pysource';
import { checkExpectation, CheckOptions, CheckResult } from './check';
import { unifiedDiff } from './diff';
import { describeExpectation, Expectation } from './expectations';
import { mutateLine } from './mutations';

export interface RepairOptions extends CheckOptions {
  /** Most candidates run (default 300). */
  readonly maxCandidates?: number;
  /** Stop after this many verified fixes (default 3). */
  readonly maxFixes?: number;
  /** Stop trying new candidates after this long (default 120 s). */
  readonly timeBudgetSeconds?: number;
  /** Candidates checked at once (default 2). */
  readonly concurrency?: number;
  /** Display name of the file in diffs (default its path). */
  readonly fileLabel?: string;
  readonly onProgress?: (tried: number, total: number, fixes: number) => void;
}

export interface VerifiedFix {
  /** The whole patched program. */
  readonly source: string;
  /** 1-based line the edit starts at, in the original. */
  readonly line: number;
  /** Lines of the original the edit replaces (0 for an insertion). */
  readonly replacedLines: number;
  /** The new text of those lines. */
  readonly newText: string;
  /** What changed: "`<` → `<=` on line 5". */
  readonly change: string;
  readonly diff: string;
  /** What it achieved: "now f(3) == 6 holds (returned 6); 2 other checks still pass". */
  readonly summary: string;
  /** Failing expectations it fixed, the target first. */
  readonly fixed: readonly string[];
}

export interface RepairReport {
  /** Every expectation on the original program. */
  readonly before: readonly CheckResult[];
  /** The failing expectation the repair was guided by. */
  readonly target?: CheckResult;
  readonly fixes: readonly VerifiedFix[];
  readonly candidates: number;
  readonly tried: number;
  readonly secondsToFirstFix?: number;
  readonly seconds: number;
  /** Why nothing was tried ("all 4 checks pass"). */
  readonly note?: string;
}

interface Candidate {
  readonly line: number;
  readonly replacedLines: number;
  readonly newText: string;
  readonly change: string;
}

export async function repairProgram(source: string, expectations: readonly Expectation[], options: RepairOptions): Promise<RepairReport> {
  const started = performance.now();
  const seconds = (): number => (performance.now() - started) / 1000;
  if (expectations.length === 0) return { before: [], fixes: [], candidates: 0, tried: 0, seconds: seconds(), note: 'no expectations: nothing says what the program should do' };
  const before: CheckResult[] = [];
  for (const expectation of expectations) before.push(await checkExpectation(source, expectation, options));
  const target = before.find((result) => !result.passed);
  if (!target) return { before, fixes: [], candidates: 0, tried: 0, seconds: seconds(), note: `all ${before.length} checks pass` };
  const passing = before.filter((result) => result.passed).map((result) => result.expectation);
  const otherFailing = before.filter((result) => !result.passed && result !== target).map((result) => result.expectation);

  const lines = splitLines(source);
  const candidates = candidatesFor(source, lines, target);
  const eol = source.includes('\r\n') ? '\r\n' : '\n';
  const ending = /\r?\n$/.test(source) ? eol : '';
  const maxCandidates = options.maxCandidates ?? 300;
  const maxFixes = options.maxFixes ?? 3;
  const budget = options.timeBudgetSeconds ?? 120;
  const fixes: VerifiedFix[] = [];
  let firstFixAt: number | undefined;
  let next = 0;
  let tried = 0;
  const total = Math.min(candidates.length, maxCandidates);

  const verify = async (candidate: Candidate): Promise<VerifiedFix | undefined> => {
    const patched = applyCandidate(lines, candidate).join(eol) + ending;
    const targetResult = await checkExpectation(patched, target.expectation, options);
    if (!targetResult.passed) return undefined;
    for (const expectation of passing) if (!(await checkExpectation(patched, expectation, options)).passed) return undefined;
    const alsoFixed: string[] = [];
    for (const expectation of otherFailing) if ((await checkExpectation(patched, expectation, options)).passed) alsoFixed.push(describeExpectation(expectation));
    const what = targetResult.expectation.kind === 'returns' ? `now ${describeExpectation(target.expectation).replace(/ returns$/, '')} returns (${targetResult.outcome})` : `now ${describeExpectation(target.expectation)} holds (${targetResult.outcome})`;
    const rest = [alsoFixed.length ? `also fixes ${alsoFixed.join(', ')}` : '', passing.length ? `${passing.length} other check${passing.length === 1 ? '' : 's'} still pass${passing.length === 1 ? 'es' : ''}` : ''].filter(Boolean).join('; ');
    return {
      source: patched,
      line: candidate.line,
      replacedLines: candidate.replacedLines,
      newText: candidate.newText,
      change: `${candidate.change} on line ${candidate.line}`,
      diff: unifiedDiff(source, patched, options.fileLabel ?? options.programPath),
      summary: rest ? `${what}; ${rest}` : what,
      fixed: [describeExpectation(target.expectation), ...alsoFixed],
    };
  };

  const worker = async (): Promise<void> => {
    while (next < total && fixes.length < maxFixes && seconds() < budget && !options.signal?.aborted) {
      const candidate = candidates[next++];
      const fix = await verify(candidate);
      tried++;
      if (fix && fixes.length < maxFixes) {
        fixes.push(fix);
        firstFixAt ??= seconds();
      }
      options.onProgress?.(tried, total, fixes.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 2) }, worker));
  // The fixes that make the most failing expectations pass first; among those, as they were ranked
  // (nearest to the failure), since candidates finish out of order.
  const rank = new Map(candidates.map((candidate, i) => [`${candidate.line}:${candidate.newText}`, i]));
  fixes.sort((a, b) => b.fixed.length - a.fixed.length || (rank.get(`${a.line}:${a.newText}`) ?? 0) - (rank.get(`${b.line}:${b.newText}`) ?? 0));
  return { before, target, fixes, candidates: candidates.length, tried, ...(firstFixAt !== undefined ? { secondsToFirstFix: firstFixAt } : {}), seconds: seconds() };
}

/** Candidate edits, nearest to where the failing run went wrong first. */
function candidatesFor(source: string, lines: readonly string[], target: CheckResult): Candidate[] {
  const scanned = scanPython(source);
  const frames = target.frames.filter((frame) => frame.origin.file === undefined && frame.origin.line <= lines.length);
  // Where it went wrong first: the first exception, else the end of the run.
  const exceptionAt = frames.findIndex((frame) => frame.event === 'exception');
  const departure = exceptionAt >= 0 ? exceptionAt : frames.length - 1;
  const order: number[] = [];
  for (let i = departure; i >= 0; i--) {
    const line = frames[i].origin.line;
    if (!order.includes(line)) order.push(line);
  }
  // Then the rest of the functions the run entered (a branch it never took may be the bug).
  const entered = new Set(frames.map((frame) => frame.origin.functionName));
  for (const fn of scanned.functions) {
    if (!entered.has(fn.name)) continue;
    for (let line = fn.defLine + 1; line <= fn.lastLine; line++) if (!order.includes(line)) order.push(line);
  }
  const typesAt = localTypesByLine(frames);
  const candidates: Candidate[] = [];
  for (const line of order) {
    const text = lines[line - 1];
    if (text === undefined || text.trim() === '' || text.trim().startsWith('#') || scanned.continuation[line - 1]) continue;
    const types = typesAt.get(line) ?? new Map<string, string>();
    const sameType = (name: string): string[] => {
      const type = types.get(name);
      return type === undefined ? [] : [...types].filter(([other, otherType]) => other !== name && otherType === type).map(([other]) => other);
    };
    for (const mutation of mutateLine(text, sameType)) candidates.push({ line, replacedLines: 1, newText: mutation.text, change: mutation.change });
  }
  candidates.push(...missingReturns(scanned, lines, target, frames));
  return candidates;
}

/** A function that ran off its end (returned None where a value was expected): `return NAME` for each of its locals. */
function missingReturns(scanned: ReturnType<typeof scanPython>, lines: readonly string[], target: CheckResult, frames: readonly RecordedFrame[]): Candidate[] {
  if (target.actual !== 'None' || target.expectation.kind === 'returns') return [];
  const fn = scanned.functions.find((candidate) => candidate.name === target.expectation.function && candidate.parent === undefined);
  if (!fn) return [];
  // Its variables: those the trace saw, and those its lines bind (the last assignment never shows in a frame).
  const last = [...frames].reverse().find((frame) => frame.origin.functionName === fn.name && 'locals' in frame);
  const names = new Set(last && 'locals' in last ? last.locals.map(([name]) => name) : []);
  for (let line = fn.defLine + 1; line <= fn.lastLine; line++) for (const name of boundNames(lines[line - 1] ?? '')) names.add(name);
  const bodyIndent = /^\s*/.exec(lines[fn.defLine] ?? '')?.[0] ?? '    ';
  let end = fn.lastLine;
  while (end > fn.defLine && (lines[end - 1] ?? '').trim() === '') end--;
  // The last statement computes the value but does not return it.
  const lastLine = lines[end - 1] ?? '';
  const lastStatement = lastLine.trim();
  const computes = end > fn.defLine && !scanned.continuation[end - 1] && /^\s/.test(lastLine) && !/^(?:return|pass|raise|break|continue|del|assert|import|from|global|nonlocal|if|elif|else|for|while|try|except|finally|with|def|class)\b/.test(lastStatement) && !/^[\w.[\], ]+\s*(?:[-+*/%&|^@]|\/\/|\*\*|>>|<<)?=(?!=)/.test(lastStatement);
  const returnIt: Candidate[] = computes ? [{ line: end, replacedLines: 1, newText: lastLine.replace(/^(\s*)/, '$1return '), change: `returned the value of \`${lastStatement}\`` }] : [];
  return [...returnIt, ...[...names].map((name) => ({ line: end + 1, replacedLines: 0, newText: `${bodyIndent}return ${name}`, change: `added \`return ${name}\`` }))];
}

/** For each line, the type (by repr shape) of each local where the real run passed through it. */
function localTypesByLine(frames: readonly RecordedFrame[]): Map<number, Map<string, string>> {
  const byLine = new Map<number, Map<string, string>>();
  for (const frame of frames) {
    if (!('locals' in frame)) continue;
    const types = byLine.get(frame.origin.line) ?? new Map<string, string>();
    for (const [name, repr] of frame.locals) types.set(name, typeOf(repr));
    byLine.set(frame.origin.line, types);
  }
  return byLine;
}

function typeOf(repr: string): string {
  if (/^-?\d+$/.test(repr)) return 'int';
  if (/^-?(?:\d+\.\d*|\.\d+|\d+(?:\.\d*)?e[-+]?\d+|inf|nan)$/i.test(repr)) return 'float';
  if (/^(?:True|False)$/.test(repr)) return 'bool';
  if (/^b?['"]/.test(repr)) return repr.startsWith('b') ? 'bytes' : 'str';
  return repr[0] === '[' ? 'list' : repr[0] === '{' ? 'dict' : repr[0] === '(' ? 'tuple' : repr.replace(/\(.*$|<|>/gs, '');
}

function applyCandidate(lines: readonly string[], candidate: Candidate): string[] {
  const out = [...lines];
  out.splice(candidate.line - 1, candidate.replacedLines, ...candidate.newText.split('\n'));
  return out;
}
