/** Writes frames as CWM text, byte for byte as the model was trained to read and write them. */
import { Locals, TraceFrame } from './frame';
import { pyJsonString, pyJsonStringObject } from './pyjson';
import { SPECIAL_TOKENS as T } from './tokens';

export const UNCHANGED = '..';

/**
 * The text of one frame, ending in <|frame_sep|>.
 *
 * A local is written as ".." when it is unchanged since `previous` and `previous` belongs to the same
 * activation. In CWM's grammar that is exactly when this is a line frame and `previous` a call or
 * line frame: any frame after a return or an exception restates every value, which keeps the text
 * readable by resolvers that walk back only to the last context change (as Meta's demo does).
 */
export function encodeFrame(frame: TraceFrame, previous?: TraceFrame): string {
  switch (frame.event) {
    case 'call':
      return T.callSep + pyJsonStringObject(frame.locals) + T.actionSep + frame.source + '\n' + T.frameSep;
    case 'line':
      return T.lineSep + pyJsonStringObject(writtenLocals(frame, previous)) + T.actionSep + frame.source + '\n' + T.frameSep;
    case 'return':
      return T.returnSep + T.actionSep + frame.source + '\n' + T.argSep + pyJsonString(frame.value) + T.frameSep;
    case 'exception':
      return T.exceptionSep + T.actionSep + frame.source + '\n' + T.argSep + pyJsonString(frame.value) + T.frameSep;
  }
}

/** The LOCALS a call or line frame writes after `previous`, with ".." where encodeFrame puts it. */
export function writtenLocals(frame: TraceFrame & { readonly locals: Locals }, previous?: TraceFrame): Locals {
  if (frame.event !== 'line' || !previous || (previous.event !== 'call' && previous.event !== 'line')) return frame.locals;
  const old = new Map(previous.locals);
  return frame.locals.map(([name, repr]) => (old.get(name) === repr ? [name, UNCHANGED] : [name, repr]));
}

/** Encodes frames one at a time, remembering the previous frame for ".." compression. */
export class TraceTextWriter {
  private previous: TraceFrame | undefined;

  frame(frame: TraceFrame): string {
    const text = encodeFrame(frame, this.previous);
    this.previous = frame;
    return text;
  }

  /** The model's <|end_of_text|>: execution left the entry function. */
  end(): string {
    this.previous = undefined;
    return T.endOfText;
  }
}

/** A whole continuation; `complete` adds <|end_of_text|> (the trace left the entry function). */
export function encodeTrace(frames: readonly TraceFrame[], complete: boolean): string {
  const writer = new TraceTextWriter();
  let text = '';
  for (const frame of frames) text += writer.frame(frame);
  return complete ? text + writer.end() : text;
}

/**
 * The same text for a human: one frame a line, the newline that ends each source line shown as "⏎"
 * (the convention of cwm-trace-format.md §4). The line break after <|frame_sep|> is the only one added.
 */
export function displayFrameText(frameText: string): string {
  return frameText.replace(/\n/g, '⏎');
}
