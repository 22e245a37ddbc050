/**
 * The numbers of an evaluation run, as CWM's tech report defines them. Only rows whose real run
 * returned are measured; rows that raised or hit a limit are counted apart and enter no metric.
 *
 * Per teacher-forced step (step k: the model reads the prompt and real frames 0..k-1 and writes one
 * frame greedily; teacher-forced.ts, judged in judge.ts and frame-match.ts):
 * - valid format: exactly one complete frame with no parse error but an unresolved "..", ended by
 *   <|frame_sep|>; or a bare end-of-trace token. Running out of the frame's token budget is invalid.
 * - action EM: same event and same source line (a call frame's START_OF_TRACE comment ignored).
 * - state EM: call/line, the same locals (names and values, any order, 0x addresses ignored);
 *   return/exception, the same value. Invalid predictions and the end of trace match neither.
 * Each rate is over every measured step; steps whose prefix plus the frame budget would not fit the
 * context are skipped and counted. The baselines (baselines.ts) are judged on the very same steps.
 *
 * With frame-grammar decoding (the default where the backend can constrain its output) the model's
 * steps and free runs are constrained, and the teacher-forced steps are also run without it: both
 * sets of numbers are reported ("unconstrained").
 *
 * Per free-running row (free-running.ts): output pass@1, the final predicted frame is the entry's
 * return (depth 1) and its value equals the expected output as a Python value (same-values.ts).
 *
 * Costs: tokens/trace, tokens generated over free-running rows; ms/frame, free-running wall time over
 * frames predicted; ms/step, teacher-forced wall time over steps measured (sums over sums, so long
 * traces weigh what they cost). A part that was not run has no numbers (undefined); a number over
 * nothing is null, a rate over nothing has no value.
 */
import type { EvalRun, MeasuredRow, StepOutcome } from './harness';
import type { ModelJudgement } from './judge';

export interface Rate {
  readonly hits: number;
  readonly total: number;
}

export function rateValue(rate: Rate): number | undefined {
  return rate.total === 0 ? undefined : rate.hits / rate.total;
}

export interface ModelMetrics {
  readonly validFormat?: Rate;
  readonly actionMatch?: Rate;
  readonly stateMatch?: Rate;
  readonly outputPass?: Rate;
  /** null: the part ran, but over nothing. */
  readonly tokensPerTrace?: number | null;
  readonly msPerFrame?: number | null;
  readonly msPerStep?: number | null;
}

/** The teacher-forced numbers of the model without frame grammar, beside the constrained ones. */
export interface UnconstrainedMetrics {
  readonly validFormat: Rate;
  readonly actionMatch: Rate;
  readonly stateMatch: Rate;
}

export interface BaselineMetrics {
  readonly actionMatch: Rate;
  readonly stateMatch: Rate;
}

export interface EvalMetrics {
  readonly rows: {
    /** Rows handed to the evaluation. */
    readonly total: number;
    readonly measured: number;
    readonly excluded: number;
    /** Excluded rows by the reason their real run ended. */
    readonly excludedBy: Readonly<Record<string, number>>;
    /** Rows a stop left unreached. */
    readonly notReached: number;
  };
  readonly steps: { readonly measured: number; readonly skippedForContext: number };
  readonly model: ModelMetrics;
  /** Present when the model's teacher-forced steps were constrained by the frame grammar. */
  readonly unconstrained?: UnconstrainedMetrics;
  readonly repeatPrevious: BaselineMetrics;
  readonly nextLine: BaselineMetrics;
}

/** Valid-format, action and state counts of one decoding of the steps (the model's, or unconstrained). */
export function judgedCounts<T>(count: (test: (step: StepOutcome) => boolean) => T, judged: (step: StepOutcome) => ModelJudgement | undefined): { validFormat: T; actionMatch: T; stateMatch: T } {
  return {
    validFormat: count((step) => judged(step)?.valid === true),
    actionMatch: count((step) => judged(step)?.action === true),
    stateMatch: count((step) => judged(step)?.state === true),
  };
}

export function summarize(run: EvalRun): EvalMetrics {
  const measured = run.rows.filter((row): row is MeasuredRow => row.kind === 'measured');
  const excludedBy: Record<string, number> = {};
  for (const row of run.rows) if (row.kind === 'excluded') excludedBy[row.reason] = (excludedBy[row.reason] ?? 0) + 1;
  const steps = measured.flatMap((row) => row.steps);
  const count = (test: (step: StepOutcome) => boolean): Rate => ({ hits: steps.filter(test).length, total: steps.length });

  const model: { -readonly [K in keyof ModelMetrics]: ModelMetrics[K] } = {};
  if (run.parts.teacherForced) {
    Object.assign(model, judgedCounts(count, (step) => step.model));
    model.msPerStep = ratio(sum(measured.map((row) => row.teacherForcedMs ?? 0)), steps.length);
  }
  if (run.parts.freeRunning) {
    const runs = measured.flatMap((row) => (row.freeRunning ? [row.freeRunning] : []));
    model.outputPass = { hits: runs.filter((one) => one.pass).length, total: runs.length };
    model.tokensPerTrace = ratio(sum(runs.map((one) => one.tokens)), runs.length);
    model.msPerFrame = ratio(sum(runs.map((one) => one.ms)), sum(runs.map((one) => one.frames)));
  }
  return {
    rows: {
      total: run.total,
      measured: measured.length,
      excluded: run.rows.length - measured.length,
      excludedBy,
      notReached: run.total - run.rows.length,
    },
    steps: { measured: steps.length, skippedForContext: sum(measured.map((row) => row.skippedForContext)) },
    model,
    ...(run.parts.teacherForced && run.parts.grammar ? { unconstrained: judgedCounts(count, (step) => step.unconstrained) } : {}),
    repeatPrevious: { actionMatch: count((step) => step.repeatPrevious.action), stateMatch: count((step) => step.repeatPrevious.state) },
    nextLine: { actionMatch: count((step) => step.nextLine.action), stateMatch: count((step) => step.nextLine.state) },
  };
}

function ratio(total: number, count: number): number | null {
  return count === 0 ? null : total / count;
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
