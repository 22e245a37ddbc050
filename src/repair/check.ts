/**
 * Checking an expectation for real: the call runs under the real tracer with the usual limits, on the
 * program text given (the user's file or a patched copy of it; nothing is written to the user's file),
 * and its return value is compared with the expected one as a Python value.
 */
import { RecordedFrame } from '../trace/frame';
import { buildPromptProgram, PromptError } from '../trace/prompt';
import { sameValues } from '../runtime/same-values';
import { startTrace, TraceResult } from '../runtime/tracer';
import { describeExpectation, Expectation } from './expectations';
import { literalKey } from './literal-key';

export interface CheckOptions {
  /** The user's file: the run happens in its folder, under its name. */
  readonly programPath: string;
  readonly python?: string;
  readonly tracerScript?: string;
  /** Per call (default 2 s). */
  readonly timeoutSeconds?: number;
  readonly maxSteps?: number;
  readonly signal?: AbortSignal;
}

export interface CheckResult {
  readonly expectation: Expectation;
  readonly passed: boolean;
  /** The returned value's repr, when the call returned. */
  readonly actual?: string;
  /** "returned 3, expected 4", "raised IndexError: list index out of range", "still running after 2 s". */
  readonly outcome: string;
  /** The run's frames (kept for the first failing check, to guide the repair). */
  readonly frames: readonly RecordedFrame[];
}

export async function checkExpectation(source: string, expectation: Expectation, options: CheckOptions): Promise<CheckResult> {
  let program;
  try {
    program = buildPromptProgram(source, { entry: expectation.function, args: expectation.args });
  } catch (error) {
    if (error instanceof PromptError) return { expectation, passed: false, outcome: error.message, frames: [] };
    throw error;
  }
  const run = startTrace({
    programPath: options.programPath,
    program,
    ...(options.python ? { python: options.python } : {}),
    ...(options.tracerScript ? { tracerScript: options.tracerScript } : {}),
    limits: { timeoutSeconds: options.timeoutSeconds ?? 2, maxSteps: options.maxSteps ?? 100_000, maxOutputBytes: 1 << 16 },
  });
  const abort = (): void => run.stop();
  options.signal?.addEventListener('abort', abort, { once: true });
  let result: TraceResult;
  try {
    result = await run.done;
  } finally {
    options.signal?.removeEventListener('abort', abort);
  }
  const frames = result.frames;
  if (result.end.reason !== 'returned') {
    const outcome = result.end.reason === 'raised' ? result.end.message.replace(/^the entry function /, '') : result.end.message;
    return { expectation, passed: false, outcome, frames };
  }
  const actual = returnedValue(frames);
  if (actual === undefined) return { expectation, passed: false, outcome: 'returned, but the trace shows no return value', frames };
  const passed = await judge(expectation, actual, options.python);
  const outcome = passed ? `returned ${actual}` : `returned ${actual}${expectation.kind === 'equal' ? `, expected ${expectation.expected}` : expectation.kind === 'truthy' ? ', expected a true value' : ', expected a false value'}`;
  return { expectation, passed, actual, outcome, frames };
}

/** Checks one after another, stopping at the first failure when `stopAtFailure`. */
export async function checkAll(source: string, expectations: readonly Expectation[], options: CheckOptions & { readonly stopAtFailure?: boolean }): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const expectation of expectations) {
    const result = await checkExpectation(source, expectation, options);
    results.push(result);
    if (!result.passed && options.stopAtFailure) break;
  }
  return results;
}

export function checkLabel(result: CheckResult): string {
  return `${describeExpectation(result.expectation)}: ${result.passed ? 'passes' : result.outcome}`;
}

/** The entry call's value: the return frame of the outermost activation (depth 1). */
function returnedValue(frames: readonly RecordedFrame[]): string | undefined {
  for (let i = frames.length - 1; i >= 0; i--) {
    const frame = frames[i];
    if (frame.event === 'return' && frame.origin.depth === 1) return frame.value;
  }
  return undefined;
}

async function judge(expectation: Expectation, actual: string, python: string | undefined): Promise<boolean> {
  switch (expectation.kind) {
    case 'returns':
      return true;
    case 'truthy':
    case 'falsy':
      return isTruthy(actual) === (expectation.kind === 'truthy');
    case 'equal': {
      const expected = expectation.expected ?? '';
      if (actual === expected) return true;
      const keys = [literalKey(actual), literalKey(expected)];
      if (keys[0] !== undefined && keys[1] !== undefined) return keys[0] === keys[1];
      const [same] = await sameValues([[actual, expected]], python ? { python } : {});
      return same;
    }
  }
}

/** Python's truth of a repr: False, None, zeros and empty containers are false. */
export function isTruthy(repr: string): boolean {
  return !/^(?:False|None|0|0\.0|-0\.0|0j|''|""|\[\]|\(\)|\{\}|set\(\)|b''|b"")$/.test(repr.trim());
}
