/**
 * Which real frame stands for each predicted step, once the two traces may have parted ways.
 *
 * A predicted step is matched to the first real frame after the previously matched one that has the
 * same event, the same source line and the same call depth. The search stops where the real run leaves
 * the scope the step lives in (a real frame shallower than the step): a step the real run never takes
 * there has no counterpart, and the next matched step starts from the last match again.
 *
 * This keeps both sides monotone and makes the usual divergences read sensibly:
 * - the prediction runs a loop fewer times: its first step after the loop matches the real one after
 *   the remaining iterations, which are skipped;
 * - it runs the loop more times: its extra iterations match nothing (the real run has left the loop and
 *   the search stops at the loop's end), and the step after the loop matches again;
 * - a call stepped over (the model forced to return at once) matches the real return of that call,
 *   after all of the callee's real frames;
 * - an exception on one side only: the exception frame matches nothing, and the two sides meet again
 *   at the next step that exists on both (a return, the caller's next line), if any.
 */
import type { FrameEvent } from '../trace/frame';

export interface AlignPoint {
  readonly event: FrameEvent | undefined;
  /** Line in the traced source; undefined when unknown (a malformed or unplaceable step). */
  readonly line: number | undefined;
  readonly depth: number;
}

/** The real frame matching `step`, searching after index `after` (-1: from the start). */
export function alignNext(actual: readonly AlignPoint[], after: number, step: AlignPoint): number | undefined {
  if (step.line === undefined || step.event === undefined) return undefined;
  for (let k = after + 1; k < actual.length; k++) {
    const frame = actual[k];
    if (frame.depth < step.depth) return undefined;
    if (frame.depth === step.depth && frame.line === step.line && frame.event === step.event) return k;
  }
  return undefined;
}

/**
 * Alignment of a whole predicted trace, kept incrementally: `aligned[i]` is the real frame of step i or
 * undefined. Steps are only appended or dropped from the end, as the predictor's are.
 */
export class Alignment {
  private readonly matches: Array<number | undefined> = [];

  constructor(private readonly actual: readonly AlignPoint[]) {}

  get length(): number {
    return this.matches.length;
  }

  at(step: number): number | undefined {
    return this.matches[step];
  }

  /** The last real frame matched at or before step `step`, -1 if none. */
  lastMatchedAt(step: number): number {
    for (let i = Math.min(step, this.matches.length - 1); i >= 0; i--) {
      const match = this.matches[i];
      if (match !== undefined) return match;
    }
    return -1;
  }

  truncate(length: number): void {
    if (length < this.matches.length) this.matches.length = length;
  }

  push(step: AlignPoint): number | undefined {
    const match = alignNext(this.actual, this.lastMatchedAt(this.matches.length - 1), step);
    this.matches.push(match);
    return match;
  }
}
