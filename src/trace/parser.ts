/**
 * An incremental parser for CWM trace text. It accepts the model's output in whatever pieces it
 * streams (cut anywhere, even inside a special token), never throws, and reports every malformed
 * frame as a structured error while carrying on with the next frame.
 */
import { Locals, LocalVar, TraceFrame } from './frame';
import { UNCHANGED } from './encoder';
import { parseString, parseStringObject } from './pyjson';
import { asSpecialToken, SPECIAL_TOKENS as T, SpecialToken } from './tokens';

export type ParseErrorKind =
  | 'unexpected-text' // text where an event token belongs
  | 'unexpected-token' // a known special token out of place
  | 'unknown-token' // a special-looking token that is not CWM's
  | 'missing-separator' // e.g. <|frame_sep|> before <|action_sep|>
  | 'bad-json' // LOCALS or VALUE is not the JSON the format requires
  | 'truncated-frame' // a new frame began, or the input ended, inside a frame
  | 'eos-mid-frame' // <|end_of_text|> inside a frame
  | 'unresolved-unchanged' // ".." with no earlier value to stand for
  | 'after-end'; // anything after <|end_of_text|>

export interface ParseError {
  readonly kind: ParseErrorKind;
  readonly message: string;
  /** Index the frame would have had (the number of frames parsed before it). */
  readonly frameIndex: number;
}

export type ParseEvent =
  | { readonly type: 'frame'; readonly frame: TraceFrame; readonly index: number }
  | { readonly type: 'end' }
  | { readonly type: 'error'; readonly error: ParseError };

type State =
  | 'start' // before anything: a prompt may come first
  | 'context' // inside the prompt's source
  | 'event' // between frames
  | 'locals'
  | 'source'
  | 'action' // after <|return_sep|> / <|exception_sep|>, before <|action_sep|>
  | 'value-source'
  | 'value'
  | 'skip' // after an error, until the next <|frame_sep|>
  | 'ended';

const EVENT_OF: Partial<Record<SpecialToken, TraceFrame['event']>> = {
  [T.callSep]: 'call',
  [T.lineSep]: 'line',
  [T.returnSep]: 'return',
  [T.exceptionSep]: 'exception',
};

/**
 * Spelled-out tokens are at most this long (the longest real one has 23 characters); a longer
 * look-alike is text, whether it arrives whole or in pieces.
 */
const MAX_TOKEN_LENGTH = 64;
const TOKEN_PATTERN = new RegExp(`<\\|[A-Za-z0-9_]{1,${MAX_TOKEN_LENGTH - 4}}\\|>`, 'g');

export class TraceParser {
  private state: State = 'start';
  private event: TraceFrame['event'] = 'line';
  private buffer = '';
  private source = '';
  private pendingText = '';
  private locals: Locals = [];
  private textErrorReported = false;
  private readonly resolver = new UnchangedResolver();
  private out: ParseEvent[] = [];

  readonly frames: TraceFrame[] = [];
  readonly errors: ParseError[] = [];
  /** The prompt's source when the input began with one. */
  context: string | undefined;

  /** True once <|end_of_text|> was read: the trace left the entry function. */
  get ended(): boolean {
    return this.state === 'ended';
  }

  /** True between frames: no frame is half read. */
  get atFrameBoundary(): boolean {
    return this.state === 'event' || this.state === 'start' || this.state === 'ended';
  }

  /** Text with special tokens spelled out, as a tokenizer's decode(skip_special_tokens=false) gives it. */
  feedText(chunk: string): ParseEvent[] {
    let text = this.pendingText + chunk;
    this.pendingText = '';
    const hold = heldBackSuffix(text);
    if (hold > 0) {
      this.pendingText = text.slice(text.length - hold);
      text = text.slice(0, text.length - hold);
    }
    let last = 0;
    for (const match of text.matchAll(TOKEN_PATTERN)) {
      const at = match.index ?? 0;
      if (at > last) this.plain(text.slice(last, at));
      this.special(match[0]);
      last = at + match[0].length;
    }
    if (last < text.length) this.plain(text.slice(last));
    return this.drain();
  }

  /** Ordinary text that is known to hold no special token (decoded from regular token ids). */
  feedPlain(text: string): ParseEvent[] {
    this.releaseHeldText();
    this.plain(text);
    return this.drain();
  }

  /** One special token, by its string. Anything not among CWM's tokens is reported as unknown. */
  feedToken(token: string): ParseEvent[] {
    this.releaseHeldText();
    this.special(token);
    return this.drain();
  }

  /** Text feedText held back in case a token began there: input of another kind proves it did not. */
  private releaseHeldText(): void {
    if (this.pendingText === '') return;
    const text = this.pendingText;
    this.pendingText = '';
    this.plain(text);
  }

  /** The input is over. A half-read frame is reported as truncated. */
  finish(): ParseEvent[] {
    this.releaseHeldText();
    if (!this.atFrameBoundary && this.state !== 'skip') {
      this.error('truncated-frame', `the input ended inside a ${this.event} frame`);
    }
    if (this.state !== 'ended') this.state = 'event';
    return this.drain();
  }

  private drain(): ParseEvent[] {
    const events = this.out;
    this.out = [];
    return events;
  }

  private plain(text: string): void {
    if (text === '') return;
    switch (this.state) {
      case 'start':
      case 'event':
        if (text.trim() === '' || this.textErrorReported) return;
        this.textErrorReported = true;
        this.error('unexpected-text', `text ${preview(text)} where a frame should begin`);
        return;
      case 'context':
      case 'locals':
      case 'source':
      case 'value-source':
      case 'value':
        this.buffer += text;
        return;
      case 'action':
        if (text.trim() === '') return;
        this.error('missing-separator', `text ${preview(text)} before <|action_sep|> in a ${this.event} frame`);
        this.state = 'skip';
        return;
      case 'skip':
        return;
      case 'ended':
        if (text.trim() !== '') this.afterEnd();
        return;
    }
  }

  private special(tokenText: string): void {
    const token = asSpecialToken(tokenText);
    if (!token && this.state === 'context') {
      // The prompt's source is user code: a token look-alike in a string literal is its text.
      this.buffer += tokenText;
      return;
    }
    if (!token) {
      if (this.state === 'ended') return this.afterEnd();
      this.error('unknown-token', `${tokenText} is not a CWM trace token`);
      if (this.state !== 'start' && this.state !== 'event') this.state = 'skip';
      return;
    }
    if (this.state === 'ended') return this.afterEnd();
    if (this.state === 'start') {
      if (token === T.beginOfText) return;
      if (token === T.traceContextStart) {
        this.state = 'context';
        this.buffer = '';
        return;
      }
      this.state = 'event';
    }
    if (this.state === 'context') {
      if (token === T.frameSep) {
        this.context = this.buffer;
        this.buffer = '';
        this.state = 'event';
      } else {
        this.error('unexpected-token', `${token} inside the prompt's source`);
      }
      return;
    }

    const event = EVENT_OF[token];
    if (token === T.endOfText) {
      if (this.state !== 'event' && this.state !== 'skip') {
        this.error('eos-mid-frame', `<|end_of_text|> inside a ${this.event} frame`);
      }
      this.state = 'ended';
      this.out.push({ type: 'end' });
      return;
    }
    if (event) {
      if (this.state !== 'event' && this.state !== 'skip') {
        this.error('truncated-frame', `a ${event} frame began inside a ${this.event} frame`);
      }
      this.begin(event);
      return;
    }
    switch (this.state) {
      case 'event':
        if (token !== T.frameSep || !this.textErrorReported) {
          this.error('unexpected-token', `${token} where a frame should begin`);
        }
        // A <|frame_sep|> closes the stray text as one bad frame; text after it is a new one.
        if (token !== T.frameSep) this.state = 'skip';
        else this.textErrorReported = false;
        return;
      case 'skip':
        if (token === T.frameSep) {
          this.state = 'event';
          this.textErrorReported = false;
        }
        return;
      case 'locals':
        if (token === T.actionSep) return this.endLocals();
        return this.misplaced(token, '<|action_sep|>');
      case 'source':
        if (token === T.frameSep) return this.complete({ event: this.event as 'call' | 'line', locals: this.locals, source: dropNewline(this.buffer) });
        return this.misplaced(token, '<|frame_sep|>');
      case 'action':
        if (token === T.actionSep) {
          this.state = 'value-source';
          this.buffer = '';
          return;
        }
        return this.misplaced(token, '<|action_sep|>');
      case 'value-source':
        if (token === T.argSep) {
          this.source = dropNewline(this.buffer);
          this.buffer = '';
          this.state = 'value';
          return;
        }
        return this.misplaced(token, '<|arg_sep|>');
      case 'value':
        if (token === T.frameSep) return this.endValue();
        return this.misplaced(token, '<|frame_sep|>');
    }
  }

  private begin(event: TraceFrame['event']): void {
    this.event = event;
    this.buffer = '';
    this.textErrorReported = false;
    this.state = event === 'call' || event === 'line' ? 'locals' : 'action';
  }

  private misplaced(token: SpecialToken, expected: string): void {
    this.error('missing-separator', `${token} where ${expected} belongs in a ${this.event} frame`);
    this.state = token === T.frameSep ? 'event' : 'skip';
  }

  private endLocals(): void {
    const parsed = parseStringObject(this.buffer);
    if (!parsed.ok) {
      this.error('bad-json', `the locals of a ${this.event} frame are not a JSON object of strings: ${parsed.error} at offset ${parsed.offset} in ${preview(this.buffer)}`);
      this.state = 'skip';
      return;
    }
    const resolved = this.resolver.resolve(this.event as 'call' | 'line', parsed.value);
    for (const name of resolved.unresolved) {
      this.error('unresolved-unchanged', `"${name}" is ".." in a ${this.event} frame but has no earlier value`);
    }
    this.locals = resolved.locals;
    this.buffer = '';
    this.state = 'source';
  }

  private endValue(): void {
    const parsed = parseString(this.buffer);
    if (!parsed.ok) {
      this.error('bad-json', `the value of a ${this.event} frame is not a JSON string: ${parsed.error} in ${preview(this.buffer)}`);
      // The frame is lost but its event is not: a return still leaves the activation.
      if (this.event === 'return') this.resolver.leave();
      this.state = 'event';
      return;
    }
    this.complete({ event: this.event as 'return' | 'exception', source: this.source, value: parsed.value });
  }

  private complete(frame: TraceFrame): void {
    if (frame.event === 'return') this.resolver.leave();
    const index = this.frames.length;
    this.frames.push(frame);
    this.out.push({ type: 'frame', frame, index });
    this.buffer = '';
    this.state = 'event';
  }

  private afterEnd(): void {
    if (this.errors.some((e) => e.kind === 'after-end')) return;
    this.error('after-end', 'input continues after <|end_of_text|>');
  }

  private error(kind: ParseErrorKind, message: string): void {
    const error = { kind, message, frameIndex: this.frames.length };
    this.errors.push(error);
    this.out.push({ type: 'error', error });
  }
}

/**
 * Resolves ".." against a shadow copy of each running activation's locals. A return pops the
 * activation, so after a return the caller's values are its own from before the call: the text may
 * restate them or not.
 */
class UnchangedResolver {
  private readonly stack: Array<Map<string, string>> = [];

  resolve(event: 'call' | 'line', pairs: ReadonlyArray<[string, string]>): { locals: Locals; unresolved: string[] } {
    const shadow = event === 'call' ? undefined : this.stack[this.stack.length - 1];
    const unresolved: string[] = [];
    const locals: LocalVar[] = pairs.map(([name, repr]) => {
      if (repr !== UNCHANGED) return [name, repr];
      const known = shadow?.get(name);
      if (known === undefined) {
        unresolved.push(name);
        return [name, repr];
      }
      return [name, known];
    });
    const state = new Map(locals);
    if (event === 'call' || this.stack.length === 0) this.stack.push(state);
    else this.stack[this.stack.length - 1] = state;
    return { locals, unresolved };
  }

  leave(): void {
    this.stack.pop();
  }
}

/** How many characters at the end of `text` could be the start of a spelled-out token. */
function heldBackSuffix(text: string): number {
  const from = Math.max(0, text.length - MAX_TOKEN_LENGTH);
  const at = text.lastIndexOf('<', text.length - 1);
  if (at < from) return 0;
  const tail = text.slice(at);
  return /^<(\|[A-Za-z0-9_]*\|?)?$/.test(tail) ? tail.length : 0;
}

function dropNewline(text: string): string {
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}

function preview(text: string): string {
  return JSON.stringify(text.length > 60 ? text.slice(0, 57) + '...' : text);
}

/** Parses a whole text at once. */
export function parseTrace(text: string): TraceParser {
  const parser = new TraceParser();
  parser.feedText(text);
  parser.finish();
  return parser;
}
