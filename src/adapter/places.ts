/**
 * Steps of either world placed in the program: the line each ran, the function it ran in and its call
 * depth, and from those the call stack at any step. The real tracer knows all of this; for predicted
 * steps the line is found from the frame's source text (TraceLineMapper) and the depth from the
 * predictor.
 */
import type { PredictedStep } from '../predictor/steps';
import type { AlignPoint } from './alignment';
import type { FrameEvent, Locals, RecordedFrame, TraceFrame } from '../trace/frame';
import { enclosingFunction, PySource } from '../trace/pysource';
import { SourceLocator, TraceLineMapper } from '../trace/source-map';

export interface PlacedStep {
  readonly index: number;
  readonly event?: FrameEvent;
  readonly frame?: TraceFrame;
  readonly depth: number;
  /** Line in the traced (prompt) source. */
  readonly line?: number;
  readonly functionName?: string;
}

export function localsOf(step: PlacedStep | undefined): Locals | undefined {
  return step?.frame && 'locals' in step.frame ? step.frame.locals : undefined;
}

export function valueOf(step: PlacedStep | undefined): string | undefined {
  return step?.frame && 'value' in step.frame ? step.frame.value : undefined;
}

/** What the alignment compares of a step: its event, line and depth. */
export function alignPoint(step: PlacedStep): AlignPoint {
  return { event: step.event, line: step.line, depth: step.depth };
}

export function placeRecorded(frame: RecordedFrame, index: number): PlacedStep {
  return { index, event: frame.event, frame, depth: frame.origin.depth, line: frame.origin.line, functionName: frame.origin.functionName };
}

/** Places predicted steps as they come, redoing the work from the first step that changed. */
export class PredictedPlaces {
  private readonly locator: SourceLocator;
  private placed: PlacedStep[] = [];
  private seen: PredictedStep[] = [];
  private mapper: TraceLineMapper;

  constructor(source: string) {
    this.locator = new SourceLocator(source);
    this.mapper = new TraceLineMapper(this.locator);
  }

  get steps(): readonly PlacedStep[] {
    return this.placed;
  }

  /** Brings the places up to `steps`; returns the index of the first step placed anew. */
  sync(steps: readonly PredictedStep[]): number {
    let same = 0;
    while (same < steps.length && same < this.seen.length && sameStep(steps[same], this.seen[same])) same++;
    if (same < this.seen.length) {
      // The mapper follows the call stack step by step, so it replays the steps that stay.
      this.mapper = new TraceLineMapper(this.locator);
      for (let i = 0; i < same; i++) if (steps[i].frame) this.mapper.next(steps[i].frame as TraceFrame);
      this.placed.length = same;
      this.seen.length = same;
    }
    for (let i = same; i < steps.length; i++) {
      const step = steps[i];
      const line = step.frame ? this.mapper.next(step.frame) : undefined;
      this.placed.push({
        index: i,
        ...(step.event ? { event: step.event } : {}),
        ...(step.frame ? { frame: step.frame } : {}),
        depth: step.depth,
        ...(line !== undefined ? { line } : {}),
        ...functionAt(this.locator.source, step.event, line),
      });
      this.seen.push(step);
    }
    return same;
  }
}

function sameStep(a: PredictedStep, b: PredictedStep): boolean {
  return a === b || (a.tokenStart === b.tokenStart && a.tokenEnd === b.tokenEnd && a.text === b.text && a.origin === b.origin);
}

function functionAt(source: PySource, event: FrameEvent | undefined, line: number | undefined): { functionName?: string } {
  if (line === undefined) return {};
  const own = event === 'call' ? source.functions.find((fn) => fn.defLine === line && !fn.isClass) : undefined;
  const fn = own ?? enclosingFunction(source, line);
  return fn ? { functionName: fn.name } : {};
}

export interface StackLevel {
  /** The step the level stands at: the current step for the innermost, the calling line for the others. */
  readonly step: PlacedStep;
  /** The latest step of that activation that shows its locals (a return frame has none of its own). */
  readonly localsStep?: PlacedStep;
}

/** The call stack at step `current`, innermost first. */
export function callStack(steps: readonly PlacedStep[], current: number): StackLevel[] {
  const levels: StackLevel[] = [];
  if (current < 0 || current >= steps.length) return levels;
  let index = current;
  let depth = steps[current].depth;
  while (index >= 0 && depth >= 1) {
    const step = steps[index];
    levels.push({ step, ...optionalLocals(localsStepOf(steps, index)) });
    // The caller is the latest earlier step one level up.
    depth -= 1;
    let j = index - 1;
    while (j >= 0 && steps[j].depth !== depth) {
      if (steps[j].depth < depth) break;
      j--;
    }
    if (j < 0 || steps[j].depth !== depth) break;
    index = j;
  }
  return levels;
}

function optionalLocals(step: PlacedStep | undefined): { localsStep?: PlacedStep } {
  return step ? { localsStep: step } : {};
}

function localsStepOf(steps: readonly PlacedStep[], index: number): PlacedStep | undefined {
  const depth = steps[index].depth;
  for (let j = index; j >= 0; j--) {
    const step = steps[j];
    if (step.depth < depth) return undefined;
    if (step.depth === depth && localsOf(step)) return step;
    // An earlier call at this depth began the activation: nothing before it belongs to it.
    if (step.depth === depth && step.event === 'call') return undefined;
  }
  return undefined;
}
