/**
 * What the model predicts about termination: it writes the trace of the call (greedy, then a few
 * sampled runs), each until the model ends the trace, its predicted state repeats (a lasso: the same
 * line with the same locals and the same stack), or the step budget runs out. The runs vote.
 */
import { ModelBackend, ModelError } from '../model/backend';
import { Predictor, PredictedStep } from '../predictor';
import { displayFrameText } from '../trace/encoder';
import type { FrameEvent, Locals, TraceFrame } from '../trace/frame';
import { PromptProgram, toFileLine } from '../trace/prompt';
import { SourceLocator, TraceLineMapper } from '../trace/source-map';
import { StateFrame, StateRepeat, StateTracker } from './program-state';
import type { Verdict } from './verdict';

export interface ModelCheckOptions {
  /** Most predicted frames per run (default 48). */
  readonly maxSteps?: number;
  /** Sampled runs beside the greedy one (default 2). */
  readonly samples?: number;
  /** Sampling temperature of those runs (default 0.8). */
  readonly temperature?: number;
  readonly grammar?: boolean;
  /** Most tokens one frame may take (default 512: a halting run needs frames, not long values). */
  readonly maxTokensPerFrame?: number;
  readonly signal?: AbortSignal;
  /** After each predicted frame: frames predicted so far, of at most `total`. */
  readonly onProgress?: (done: number, total: number) => void;
}

export const DEFAULT_MODEL_CHECK = { maxSteps: 48, samples: 2, temperature: 0.8, maxTokensPerFrame: 512 } as const;

/** How one predicted run ended: the trace ended, a state repeated, the budget ran out, or it broke. */
export type RunOutcome = 'ended' | 'lasso' | 'budget' | 'broken';

/** A predicted step as a witness shows it. */
export interface WitnessStep {
  /** 1-based, as the editor counts steps. */
  readonly step: number;
  readonly event?: FrameEvent;
  readonly depth: number;
  /** 1-based line of the user's file, where the frame's source line was found there. */
  readonly line?: number;
  /** What the model wrote, in CWM's text (special tokens spelled out). */
  readonly text: string;
  /** The same, read: `while x != 1:   x=5` or `return 3   ← return x`; the raw text where no frame was read. */
  readonly reading: string;
}

export interface PredictedRun {
  readonly kind: 'greedy' | 'sample';
  readonly seed?: number;
  readonly outcome: RunOutcome;
  readonly steps: readonly WitnessStep[];
  /** 1-based steps of the state that repeats (outcome 'lasso'). */
  readonly lasso?: StateRepeat;
  /** Why a run broke (a frame over its token budget, a model error), or why it stopped short of its budget (a full context). */
  readonly problem?: string;
}

export interface ModelVerdict {
  readonly verdict: Verdict;
  /** 0..1: the share of the runs' weight behind the verdict (a lasso or an end weighs 1, a run out of budget 0.5). */
  readonly confidence: number;
  readonly runs: readonly PredictedRun[];
  readonly model: string;
}

export async function predictHalting(
  backend: ModelBackend,
  program: PromptProgram,
  entryLocals: Locals | undefined,
  options: ModelCheckOptions = {},
): Promise<ModelVerdict> {
  const maxSteps = options.maxSteps ?? DEFAULT_MODEL_CHECK.maxSteps;
  const samples = options.samples ?? DEFAULT_MODEL_CHECK.samples;
  const total = maxSteps * (1 + samples);
  const runs: PredictedRun[] = [];
  let done = 0;
  for (let run = 0; run <= samples; run++) {
    const seed = run === 0 ? undefined : run;
    const predicted = await predictRun(backend, program, entryLocals, {
      maxSteps,
      grammar: options.grammar ?? true,
      maxTokensPerFrame: options.maxTokensPerFrame ?? DEFAULT_MODEL_CHECK.maxTokensPerFrame,
      sampling: seed === undefined ? {} : { temperature: options.temperature ?? DEFAULT_MODEL_CHECK.temperature, topP: 0.95, seed },
      ...(options.signal ? { signal: options.signal } : {}),
      onStep: () => options.onProgress?.(++done, total),
    });
    runs.push({ ...predicted, kind: seed === undefined ? 'greedy' : 'sample', ...(seed === undefined ? {} : { seed }) });
    done = maxSteps * (run + 1);
    options.onProgress?.(done, total);
  }
  return { ...vote(runs), runs, model: backend.info.name };
}

/** The runs' verdict: ends for "terminates", lassos and exhausted budgets (at half weight) against it. */
export function vote(runs: readonly Pick<PredictedRun, 'outcome'>[]): { verdict: Verdict; confidence: number } {
  let ends = 0;
  let loops = 0;
  for (const run of runs) {
    if (run.outcome === 'ended') ends += 1;
    else if (run.outcome === 'lasso') loops += 1;
    else if (run.outcome === 'budget') loops += 0.5;
  }
  if (runs.length === 0 || ends === loops) return { verdict: 'unknown', confidence: 0 };
  return ends > loops ? { verdict: 'terminates', confidence: ends / runs.length } : { verdict: 'may-not-terminate', confidence: loops / runs.length };
}

interface RunSettings {
  readonly maxSteps: number;
  readonly grammar: boolean;
  readonly maxTokensPerFrame: number;
  readonly sampling: { readonly temperature?: number; readonly topP?: number; readonly seed?: number };
  readonly signal?: AbortSignal;
  readonly onStep: () => void;
}

async function predictRun(backend: ModelBackend, program: PromptProgram, entryLocals: Locals | undefined, settings: RunSettings): Promise<Omit<PredictedRun, 'kind' | 'seed'>> {
  const steps: WitnessStep[] = [];
  const tracker = new StateTracker();
  // The steps the tracker was fed (a step without a frame is not), so its indexes map back to steps.
  const fed: WitnessStep[] = [];
  const track = (step: PredictedStep, shown: WitnessStep): StateRepeat | undefined => {
    if (!step.frame) return undefined;
    fed.push(shown);
    const repeat = tracker.add(stateFrame(step.frame, step.depth, shown));
    return repeat && { first: fed[repeat.first].step, second: fed[repeat.second].step };
  };
  const lines = new TraceLineMapper(new SourceLocator(program.source));
  const witness = (step: PredictedStep): WitnessStep => {
    const sourceLine = step.frame ? lines.next(step.frame) : undefined;
    const line = sourceLine === undefined ? undefined : toFileLine(program, sourceLine);
    return { step: step.index + 1, ...(step.event ? { event: step.event } : {}), depth: step.depth, ...(line !== undefined ? { line } : {}), text: displayFrameText(step.text), reading: step.frame ? readFrame(step.frame) : displayFrameText(step.text) };
  };
  let predictor: Predictor | undefined;
  try {
    predictor = await Predictor.open(backend, program, entryLocals ? { entryLocals } : {}, { grammar: settings.grammar, maxTokensPerFrame: settings.maxTokensPerFrame, sampling: settings.sampling });
    // The teacher-forced entry frame (a marked entry's bound arguments) is already there.
    for (const step of predictor.steps) {
      const shown = witness(step);
      steps.push(shown);
      track(step, shown);
    }
    while (steps.length < settings.maxSteps) {
      const result = await predictor.stepFrame(settings.signal ? { signal: settings.signal } : {});
      settings.onStep();
      for (const step of result.added) {
        const shown = witness(step);
        steps.push(shown);
        const lasso = track(step, shown);
        if (lasso) return { outcome: 'lasso', steps, lasso };
      }
      if (result.ended) return { outcome: 'ended', steps };
      // A full context ends the prediction as a spent budget does: the trace had not ended so far.
      if (result.halted === 'context') return { outcome: 'budget', steps, problem: `the model's context (${backend.info.contextLength} tokens) filled` };
      if (result.halted === 'truncated') return { outcome: 'broken', steps, problem: `a frame took more than ${settings.maxTokensPerFrame} tokens` };
    }
    return { outcome: 'budget', steps };
  } catch (error) {
    if (error instanceof ModelError && error.code !== 'cancelled') return { outcome: 'broken', steps, problem: error.message };
    throw error;
  } finally {
    predictor?.dispose();
  }
}

function stateFrame(frame: TraceFrame, depth: number, shown: WitnessStep): StateFrame {
  return { event: frame.event, depth, line: shown.line !== undefined ? String(shown.line) : frame.source, ...('locals' in frame ? { locals: frame.locals } : {}) };
}

function readFrame(frame: TraceFrame): string {
  const source = frame.source.trim();
  if ('locals' in frame) return `${frame.event === 'call' ? 'call ' : ''}${source}${frame.locals.length ? '   ' + frame.locals.map(([name, value]) => `${name}=${value}`).join(' ') : ''}`;
  return `${frame.event === 'exception' ? 'raise' : 'return'} ${frame.value}   ← ${source}`;
}
