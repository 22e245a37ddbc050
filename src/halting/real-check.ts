/**
 * The real check: the call runs under the real tracer with tight limits. It returns (or raises: it
 * halts), or is still going when the time or step limit stops it, or recurses past the depth limit, or
 * its whole state comes back. A state that comes back proves non-termination only when that state is
 * all there is (hidden-state.ts); otherwise the run goes on to a limit.
 */
import { startTrace, TraceEnd } from '../runtime/tracer';
import type { Locals } from '../trace/frame';
import type { PromptProgram } from '../trace/prompt';
import { hiddenStateReasons, hiddenValueReasons } from './hidden-state';
import { StateTracker } from './program-state';
import type { Verdict } from './verdict';

export interface RealCheckOptions {
  /** The user's file: the tracer runs in its folder and reports its name. */
  readonly programPath: string;
  readonly python?: string;
  /** Wall-clock limit (default 2 s). */
  readonly timeoutSeconds?: number;
  /** Most frames (default 100,000). */
  readonly maxSteps?: number;
  /** Deepest nesting of calls (default 500: deeper than that, recursion is taken as unbounded). */
  readonly maxDepth?: number;
  readonly tracerScript?: string;
  readonly signal?: AbortSignal;
}

export const DEFAULT_REAL_CHECK = { timeoutSeconds: 2, maxSteps: 100_000, maxDepth: 500 } as const;

export type RealOutcome = TraceEnd['reason'] | 'repeat';

export interface RealCheck {
  readonly outcome: RealOutcome;
  readonly verdict: Verdict;
  /** Non-termination proven: a whole state repeated in a program whose locals are all its state. */
  readonly proven: boolean;
  /** Frames recorded. */
  readonly steps: number;
  /** From the first frame to the last, under the tracer. */
  readonly milliseconds: number;
  /** 1-based steps of a state that came back, its line in the user's file, and its locals (the innermost frame's). */
  readonly repeat?: { readonly first: number; readonly second: number; readonly line: number; readonly locals: Locals };
  /** Why a repeated state, or the run's state in general, is not all there is (no proof then). */
  readonly hidden: readonly string[];
  /** One line for a lens: "real run returned in 4 ms". */
  readonly summary: string;
  readonly traceback?: string;
}

export async function checkHaltingForReal(program: PromptProgram, options: RealCheckOptions): Promise<RealCheck> {
  const timeoutSeconds = options.timeoutSeconds ?? DEFAULT_REAL_CHECK.timeoutSeconds;
  const maxSteps = options.maxSteps ?? DEFAULT_REAL_CHECK.maxSteps;
  const maxDepth = options.maxDepth ?? DEFAULT_REAL_CHECK.maxDepth;
  const sourceReasons = hiddenStateReasons(program.source);
  const tracker = new StateTracker();
  let repeat: RealCheck['repeat'];
  let firstRepeatHidden: string[] | undefined;
  let firstAt: number | undefined;
  // A wrapped call (`main` calling the user's function) can fail before the function is entered.
  let entered = program.shape !== 'wrapper';
  let lastAt = 0;

  const run = startTrace(
    {
      programPath: options.programPath,
      program,
      ...(options.python ? { python: options.python } : {}),
      ...(options.tracerScript ? { tracerScript: options.tracerScript } : {}),
      limits: { timeoutSeconds, maxSteps, maxDepth },
      scope: 'program',
    },
    {
      frame: (frame, index) => {
        lastAt = performance.now();
        firstAt ??= lastAt;
        if (frame.origin.depth >= 2) entered = true;
        if (repeat) return;
        const found = tracker.add({ event: frame.event, depth: frame.origin.depth, line: String(frame.origin.line), ...('locals' in frame ? { locals: frame.locals } : {}) });
        if (!found || firstRepeatHidden) return;
        const hidden = [...sourceReasons, ...tracker.stackLocals.flatMap((locals) => hiddenValueReasons(locals))];
        const line = frame.origin.line - program.lineOffset;
        if (hidden.length > 0) {
          // Not a proof; keep the first such repeat's reasons to say why none was claimed.
          firstRepeatHidden = hidden;
          return;
        }
        repeat = { first: found.first + 1, second: index + 1, line, locals: 'locals' in frame ? frame.locals : [] };
        run.stop();
      },
    },
  );
  const abort = (): void => run.stop();
  options.signal?.addEventListener('abort', abort, { once: true });
  try {
    const result = await run.done;
    const milliseconds = firstAt === undefined ? 0 : Math.round(lastAt - firstAt);
    const base = { steps: result.frames.length, milliseconds, hidden: firstRepeatHidden ?? sourceReasons, ...(result.end.traceback ? { traceback: result.end.traceback } : {}) };
    if (repeat) {
      return { ...base, outcome: 'repeat', verdict: 'may-not-terminate', proven: true, repeat, hidden: [], summary: `proven: the state at step ${repeat.first} repeats at step ${repeat.second}` };
    }
    const reason = result.end.reason;
    const outcome = { outcome: reason, proven: false };
    // Tracing starts at the call: a limit hit before any frame was hit by the module's own top-level code.
    if (result.frames.length === 0 && (reason === 'timeout' || reason === 'max-output')) {
      return { ...base, ...outcome, verdict: 'unknown', summary: `real run never reached the call: the program's top-level code ran into the ${reason === 'timeout' ? `${timeoutSeconds} s` : 'output'} limit` };
    }
    switch (reason) {
      case 'returned':
        return { ...base, ...outcome, verdict: 'terminates', summary: `real run returned in ${milliseconds} ms` };
      case 'raised':
        if (!entered) return { ...base, ...outcome, verdict: 'unknown', summary: `real run could not make the call: ${result.end.message.replace(/^the entry function raised /, '')}` };
        return { ...base, ...outcome, verdict: 'terminates', summary: `real run ${result.end.message.replace(/^the entry function /, '')} after ${milliseconds} ms` };
      case 'timeout':
        return { ...base, ...outcome, verdict: 'may-not-terminate', summary: `real run still going after ${timeoutSeconds} s — stopped` };
      case 'max-steps':
        return { ...base, ...outcome, verdict: 'may-not-terminate', summary: `real run still going after ${maxSteps.toLocaleString('en-US')} steps — stopped` };
      case 'max-depth':
        return { ...base, ...outcome, verdict: 'may-not-terminate', summary: `real run ${maxDepth} calls deep — stopped (unbounded recursion?)` };
      case 'max-output':
        return { ...base, ...outcome, verdict: 'unknown', summary: `real run stopped at the output limit after ${milliseconds} ms` };
      case 'stopped':
        return { ...base, ...outcome, verdict: 'unknown', summary: 'real run cancelled' };
      default:
        return { ...base, ...outcome, verdict: 'unknown', summary: `real run failed: ${result.end.message}` };
    }
  } finally {
    options.signal?.removeEventListener('abort', abort);
  }
}
