/**
 * Frames as token ids, built part by part: every separator is its special token's id and only the text
 * between separators (LOCALS and VALUE JSON, source lines) goes through the tokenizer, as plain text.
 * Spelling a whole frame out and encoding that string would be wrong twice over: a `<|frame_sep|>`
 * inside a user's string would stop being text, and BPE merges could cross a separator.
 *
 * The text of the parts is byte-identical to `encodeFrame` (trace/encoder.ts); the tests hold the two
 * together. Each part also says what it tells about execution, so that teacher-forced scoring can judge
 * the model's "where am I" (action) apart from its "what do I hold" (state).
 */
import type { CwmTokenizer } from '../model/tokenizer';
import { writtenLocals } from '../trace/encoder';
import type { TraceFrame } from '../trace/frame';
import { pyJsonString, pyJsonStringObject } from '../trace/pyjson';
import { SPECIAL_TOKENS as T, SpecialToken } from '../trace/tokens';

/**
 * action: the event and the source line (where execution is);
 * state: the locals of a call/line frame, the value of a return/exception frame (what it holds).
 * A separator belongs to what it closes: <|action_sep|> after LOCALS ends the state, <|frame_sep|> after a
 * source line ends the action, <|frame_sep|> after a VALUE ends the state.
 */
export type TokenRole = 'action' | 'state';

export type FramePart =
  | { readonly kind: 'special'; readonly token: SpecialToken; readonly role: TokenRole }
  | { readonly kind: 'text'; readonly text: string; readonly role: TokenRole };

export interface EncodedTokens {
  readonly tokens: readonly number[];
  /** One role per token. */
  readonly roles: readonly TokenRole[];
}

const EVENT_TOKEN: Readonly<Record<TraceFrame['event'], SpecialToken>> = {
  call: T.callSep,
  line: T.lineSep,
  return: T.returnSep,
  exception: T.exceptionSep,
};

export function eventToken(event: TraceFrame['event']): SpecialToken {
  return EVENT_TOKEN[event];
}

/**
 * The parts of one frame, <|frame_sep|> included. With `previous`, a line frame writes ".." for values
 * unchanged since a previous call/line frame, exactly as the trace encoder does; without it every value
 * is written out (what an edited frame must do).
 */
export function frameParts(frame: TraceFrame, previous?: TraceFrame): FramePart[] {
  const special = (token: SpecialToken, role: TokenRole): FramePart => ({ kind: 'special', token, role });
  const text = (value: string, role: TokenRole): FramePart => ({ kind: 'text', text: value, role });
  switch (frame.event) {
    case 'call':
    case 'line':
      return [
        special(EVENT_TOKEN[frame.event], 'action'),
        text(pyJsonStringObject(writtenLocals(frame, previous)), 'state'),
        special(T.actionSep, 'state'),
        text(frame.source + '\n', 'action'),
        special(T.frameSep, 'action'),
      ];
    case 'return':
    case 'exception':
      return [
        special(EVENT_TOKEN[frame.event], 'action'),
        special(T.actionSep, 'action'),
        text(frame.source + '\n', 'action'),
        special(T.argSep, 'action'),
        text(pyJsonString(frame.value), 'state'),
        special(T.frameSep, 'state'),
      ];
  }
}

/** The parts as text with special tokens spelled out (what a tokenizer's decode gives back). */
export function partsText(parts: readonly FramePart[]): string {
  return parts.map((part) => (part.kind === 'special' ? part.token : part.text)).join('');
}

export function encodeParts(tokenizer: CwmTokenizer, parts: readonly FramePart[]): EncodedTokens {
  const tokens: number[] = [];
  const roles: TokenRole[] = [];
  for (const part of parts) {
    const ids = part.kind === 'special' ? [tokenizer.special(part.token)] : tokenizer.encodeText(part.text);
    for (const id of ids) {
      tokens.push(id);
      roles.push(part.role);
    }
  }
  return { tokens, roles };
}

export function encodeFrameTokens(tokenizer: CwmTokenizer, frame: TraceFrame, previous?: TraceFrame): EncodedTokens {
  return encodeParts(tokenizer, frameParts(frame, previous));
}
