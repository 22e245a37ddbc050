/**
 * Runs the evaluation over real traces: for each row whose real run returned, the teacher-forced steps
 * with both baselines on the same steps, then the free-running prediction; at the end, every predicted
 * output is compared with the expected one in a single Python run. Rows are measured one at a time
 * (a model runs one sequence at a time anyway), so a stop leaves whole rows only.
 */
import { isCancelled, ModelBackend, ModelError } from '../model/backend';
import { ProgramFacts } from '../predictor/program-facts';
import { sameValues, ValueComparisonError } from '../runtime/same-values';
import type { EndReason } from '../runtime/tracer';
import { sameRepr } from '../trace/compare';
import { encodeFrame } from '../trace/encoder';
import type { TraceFrame } from '../trace/frame';
import { judgeGuess, nextLineGuess, repeatPreviousFrame, BaselineJudgement } from './baselines';
import { freeRun, FreeRun } from './free-running';
import type { ModelJudgement } from './judge';
import type { RealTrace } from './rows';
import { planSteps, teacherForcedSteps } from './teacher-forced';

export interface EvalOptions {
  /** Token budget of one predicted frame, teacher-forced and free-running. */
  readonly maxFrameTokens: number;
  /** Most frames one free-running prediction may take. */
  readonly maxSteps: number;
  readonly teacherForced: boolean;
  readonly freeRunning: boolean;
  /**
   * Frame-grammar decoding where the backend can constrain its output: the model's numbers are then
   * the constrained ones, and the teacher-forced steps run a second time without it for comparison.
   */
  readonly grammar: boolean;
  /** Interpreter that compares output values (it runs no program code). */
  readonly python?: string;
  readonly signal?: AbortSignal;
  /** After each row, measured or excluded. */
  readonly onRow?: (done: number, total: number) => void;
}

export interface StepOutcome {
  readonly step: number;
  /** Absent when the teacher-forced part was not run. With frame grammar where it was used. */
  readonly model?: ModelJudgement;
  /** The same step without the grammar; only when `model` was constrained. */
  readonly unconstrained?: ModelJudgement;
  readonly repeatPrevious: BaselineJudgement;
  readonly nextLine: BaselineJudgement;
}

export interface Divergence {
  readonly step: number;
  readonly valid: boolean;
  readonly action: boolean;
  readonly state: boolean;
  /** What the model wrote, and the real frame as the trace's text writes it. */
  readonly predicted: string;
  readonly expected: string;
  readonly issue?: string;
}

export interface FreeRunResult extends FreeRun {
  readonly expected: string;
  readonly pass: boolean;
}

export interface ExcludedRow {
  readonly kind: 'excluded';
  readonly id: string;
  readonly reason: EndReason;
  readonly message: string;
}

export interface MeasuredRow {
  readonly kind: 'measured';
  readonly id: string;
  /** Frames of the real trace. */
  readonly frames: number;
  /** The measured steps, 0 to steps.length-1. */
  readonly steps: readonly StepOutcome[];
  readonly skippedForContext: number;
  /** The first teacher-forced step the model did not get entirely right (invalid, the end, or a miss). */
  readonly firstDivergence?: Divergence;
  /** Wall time of the teacher-forced steps. */
  readonly teacherForcedMs?: number;
  readonly freeRunning?: FreeRunResult;
}

export type RowResult = ExcludedRow | MeasuredRow;

export interface EvalRun {
  /** The rows reached, in order; after a stop, fewer than `total`. */
  readonly rows: readonly RowResult[];
  readonly total: number;
  /** The parts that were run, and whether the model's output was constrained by the frame grammar. */
  readonly parts: { readonly teacherForced: boolean; readonly freeRunning: boolean; readonly grammar: boolean };
  /** Why the run ended before every row was measured. */
  readonly stopped?: { readonly reason: 'interrupted' | 'error'; readonly message: string };
  /** Things the reader must know about how the numbers came about. */
  readonly notes: readonly string[];
}

type PendingRow = Omit<MeasuredRow, 'freeRunning'> & { readonly run?: FreeRun; readonly expected: string };

export async function evaluate(backend: ModelBackend, traces: readonly RealTrace[], options: EvalOptions): Promise<EvalRun> {
  const rows: Array<ExcludedRow | PendingRow> = [];
  let stopped: EvalRun['stopped'];
  for (const trace of traces) {
    if (options.signal?.aborted) {
      stopped = { reason: 'interrupted', message: 'interrupted' };
      break;
    }
    try {
      rows.push(await evaluateRow(backend, trace, options));
    } catch (error) {
      if (isCancelled(error) || options.signal?.aborted) {
        stopped = { reason: 'interrupted', message: 'interrupted' };
      } else if (error instanceof ModelError) {
        stopped = { reason: 'error', message: `row ${trace.row.id}: ${error.message}` };
      } else {
        throw error;
      }
      break;
    }
    options.onRow?.(rows.length, traces.length);
  }
  const notes: string[] = [];
  const measured = await judgeOutputs(rows, options.python, notes);
  const parts = { teacherForced: options.teacherForced, freeRunning: options.freeRunning, grammar: grammarUsed(backend, options) };
  return { rows: measured, total: traces.length, parts, ...(stopped ? { stopped } : {}), notes };
}

function grammarUsed(backend: ModelBackend, options: EvalOptions): boolean {
  return options.grammar && backend.info.constrainedDecoding === true;
}

async function evaluateRow(backend: ModelBackend, trace: RealTrace, options: EvalOptions): Promise<ExcludedRow | PendingRow> {
  const { row, program, result } = trace;
  if (result.end.reason !== 'returned') return { kind: 'excluded', id: row.id, reason: result.end.reason, message: result.end.message };
  const frames = result.frames;
  const plan = planSteps(backend.tokenizer, program, frames, backend.info.contextLength, options.maxFrameTokens);
  const signal = options.signal ? { signal: options.signal } : {};

  let model: ModelJudgement[] | undefined;
  let unconstrained: ModelJudgement[] | undefined;
  let teacherForcedMs: number | undefined;
  const grammar = grammarUsed(backend, options) ? new ProgramFacts(program.source) : undefined;
  if (options.teacherForced) {
    const started = performance.now();
    model = await teacherForcedSteps(backend, frames, plan, { maxFrameTokens: options.maxFrameTokens, ...(grammar ? { grammar } : {}), ...signal });
    teacherForcedMs = performance.now() - started;
    if (grammar) unconstrained = await teacherForcedSteps(backend, frames, plan, { maxFrameTokens: options.maxFrameTokens, ...signal });
  }
  const lines = program.source.split('\n');
  const steps: StepOutcome[] = [];
  for (let k = 0; k < plan.eligible; k++) {
    steps.push({
      step: k,
      ...(model ? { model: model[k] } : {}),
      ...(unconstrained ? { unconstrained: unconstrained[k] } : {}),
      repeatPrevious: judgeGuess(repeatPreviousFrame(frames, k), frames[k]),
      nextLine: judgeGuess(nextLineGuess(lines, frames, k), frames[k]),
    });
  }
  const divergent = steps.find((step) => step.model !== undefined && !(step.model.valid && step.model.action && step.model.state));
  const firstDivergence = divergent?.model ? divergence(divergent.step, divergent.model, frames) : undefined;
  const run = options.freeRunning ? await freeRun(backend, program, { maxSteps: options.maxSteps, maxFrameTokens: options.maxFrameTokens, grammar: grammar !== undefined, ...signal }) : undefined;
  // A row without an expected output is judged against what its real run returned.
  const last = frames[frames.length - 1];
  const expected = row.output !== '' ? row.output : last && 'value' in last ? last.value : '';
  return {
    kind: 'measured',
    id: row.id,
    frames: frames.length,
    steps,
    skippedForContext: frames.length - plan.eligible,
    ...(firstDivergence ? { firstDivergence } : {}),
    ...(teacherForcedMs !== undefined ? { teacherForcedMs } : {}),
    ...(run ? { run } : {}),
    expected,
  };
}

function divergence(step: number, model: ModelJudgement, frames: readonly TraceFrame[]): Divergence {
  const { valid, action, state, text, issue } = model;
  return { step, valid, action, state, predicted: text, expected: encodeFrame(frames[step], frames[step - 1]), ...(issue !== undefined ? { issue } : {}) };
}

/** Settles pass/fail of every free run: one Python start for all predicted values. */
async function judgeOutputs(rows: ReadonlyArray<ExcludedRow | PendingRow>, python: string | undefined, notes: string[]): Promise<RowResult[]> {
  const compared = rows.filter((row): row is PendingRow & { run: FreeRun & { predicted: string } } => row.kind === 'measured' && row.run?.predicted !== undefined);
  const pairs = compared.map((row) => [row.run.predicted, row.expected] as const);
  let equal: boolean[];
  try {
    equal = await sameValues(pairs, python !== undefined ? { python } : {});
  } catch (error) {
    if (!(error instanceof ValueComparisonError)) throw error;
    // The measurements are worth more than this one step: compare as text, and say so.
    notes.push(`${error.message}; output values were compared as text instead`);
    equal = pairs.map(([a, b]) => sameRepr(a, b));
  }
  const passed = new Map<ExcludedRow | PendingRow, boolean>(compared.map((row, i) => [row, equal[i]]));
  return rows.map((row): RowResult => {
    if (row.kind === 'excluded') return row;
    const { run, expected, ...rest } = row;
    if (!run) return rest;
    return { ...rest, freeRunning: { ...run, expected, pass: passed.get(row) ?? false } };
  });
}
