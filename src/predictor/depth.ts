/**
 * Call depth from the events the model writes. The entry function runs at depth 1 (as in the tracer's
 * FrameOrigin); 0 is outside it. A call frame belongs to the activation it opens, a return frame to the
 * one it closes; line and exception frames never change the depth. An exception that leaves a function
 * is, in CPython's event order, an exception frame followed by that function's return frame (value
 * None), so unwinding needs no rule of its own. The depth is the model's world as written: if the model
 * skips the return of an unwinding function, depth follows what it wrote.
 */
import type { FrameEvent } from '../trace/frame';

export interface FrameDepth {
  /** Depth of the activation the frame belongs to. */
  readonly depth: number;
  /** Depth of the activation the next frame runs in (a call opens one, a return closes one). */
  readonly after: number;
}

/**
 * @param before the `after` of the previous frame (0 before the first).
 * @param event the frame's event; undefined for output that began with no event token.
 */
export function frameDepth(event: FrameEvent | undefined, before: number): FrameDepth {
  switch (event) {
    case 'call':
      return { depth: before + 1, after: before + 1 };
    case 'return':
      // A return below the entry (the model wrote one too many) does not take the depth negative.
      return { depth: before, after: Math.max(0, before - 1) };
    default:
      return { depth: before, after: before };
  }
}
