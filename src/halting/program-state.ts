/**
 * The state of a running program as a trace shows it: the stack of activations, each with its current
 * line and locals. A state that comes back is a lasso: a deterministic program whose whole state is in
 * those locals would go round it forever. Both worlds are tracked the same way, the real trace by its
 * recorded frames and the predicted one by its steps, so a predicted lasso and a real one mean the same.
 */
import { createHash } from 'node:crypto';
import type { FrameEvent, Locals } from '../trace/frame';

/** One frame as the tracker needs it: what happened, at which depth (1 = the entry), where, with what. */
export interface StateFrame {
  readonly event: FrameEvent;
  readonly depth: number;
  /** The line's identity: its line number where known, else its text. */
  readonly line: string;
  /** Present on call and line frames. */
  readonly locals?: Locals;
}

export interface StateRepeat {
  /** Index (among the frames fed) of the first time the state was seen. */
  readonly first: number;
  /** Index of the frame where it came back. */
  readonly second: number;
}

interface Activation {
  line: string;
  locals: Locals;
  /** This activation's part of the state key, kept so a step only re-serializes the top. */
  part: string;
}

export class StateTracker {
  private readonly stack: Activation[] = [];
  private readonly seen = new Map<string, number>();
  private frames = 0;

  /** The locals of every activation on the stack, the entry's first. */
  get stackLocals(): readonly Locals[] {
    return this.stack.map((activation) => activation.locals);
  }

  /** Feeds the next frame; returns the repeat when this frame's state was seen before. */
  add(frame: StateFrame): StateRepeat | undefined {
    const index = this.frames++;
    const depth = Math.max(1, frame.depth);
    if (frame.event === 'return') {
      this.stack.length = Math.min(this.stack.length, depth - 1);
      return undefined;
    }
    if (frame.event === 'call') this.stack.length = Math.min(this.stack.length, depth - 1);
    else this.stack.length = Math.min(this.stack.length, depth);
    // A frame deeper than the stack knows (a trace that starts mid-way, a predicted jump): fill the gap
    // with unknown activations, equal to each other only as placeholders.
    while (this.stack.length < depth) this.stack.push({ line: '?', locals: [], part: '?' });
    const top = this.stack[depth - 1];
    if (frame.event === 'exception') return undefined;
    top.line = frame.line;
    top.locals = frame.locals ?? [];
    top.part = JSON.stringify([frame.line, frame.locals ?? []]);
    // Only line frames count: a call frame is entered once per call, and comparing at one kind of
    // event keeps "the same state" meaning "about to run the same line with the same values".
    if (frame.event !== 'line') return undefined;
    const key = createHash('sha1').update(this.stack.map((activation) => activation.part).join('\n')).digest('base64');
    const first = this.seen.get(key);
    if (first !== undefined) return { first, second: index };
    this.seen.set(key, index);
    return undefined;
  }
}
