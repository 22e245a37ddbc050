/** The frames of a CWM trace, as the model writes them and as the tracer records them. */

export type FrameEvent = 'call' | 'line' | 'return' | 'exception';

/** A local variable: its name and the Python repr() of its value. Order is frame.f_locals order. */
export type LocalVar = readonly [name: string, repr: string];
export type Locals = readonly LocalVar[];

/**
 * One frame of a trace, with every value written out (no ".." placeholders).
 * `source` is the physical source line without its trailing newline.
 */
export type TraceFrame =
  | { readonly event: 'call' | 'line'; readonly locals: Locals; readonly source: string }
  | { readonly event: 'return' | 'exception'; readonly source: string; readonly value: string };

/** Where a recorded frame ran: what the real tracer knows beyond the CWM text. */
export interface FrameOrigin {
  /** 1-based line in the traced source (the prompt source, which may wrap the user's file). */
  readonly line: number;
  readonly functionName: string;
  /** 1 for the entry function, +1 for each traced call below it. */
  readonly depth: number;
  /** Identifies one running call; a generator gets a new one each time it resumes. */
  readonly activation: number;
  /** Present only for frames outside the traced program. */
  readonly file?: string;
  /** On a return frame: the function was left by an exception (CPython then reports the value None). */
  readonly unwinding?: boolean;
  /** On an exception frame: the exception's type name. */
  readonly exceptionType?: string;
}

export type RecordedFrame = TraceFrame & { readonly origin: FrameOrigin };

export function localsToObject(locals: Locals): Record<string, string> {
  const object: Record<string, string> = {};
  for (const [name, repr] of locals) object[name] = repr;
  return object;
}

export function lookupLocal(locals: Locals, name: string): string | undefined {
  for (const [key, repr] of locals) if (key === name) return repr;
  return undefined;
}
