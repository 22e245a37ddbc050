/**
 * How the fake models read a sequence: the prompt, then frames split at the <|frame_sep|> token id (a
 * `<|frame_sep|>` spelled in text is other ids and splits nothing), then whatever frame is half written.
 */
import { CwmTokenizer } from '../../src/model/tokenizer';
import { FrameEvent } from '../../src/trace/frame';
import { SPECIAL_TOKENS as T } from '../../src/trace/tokens';

export interface SequenceChunk {
  readonly tokens: readonly number[];
  /** The event its first token names; undefined when it does not begin with an event token. */
  readonly event?: FrameEvent;
}

export interface ReadSequence {
  /** Index just after the prompt's <|frame_sep|>. */
  readonly promptEnd: number;
  /** Complete frames, <|frame_sep|> included. */
  readonly frames: readonly SequenceChunk[];
  /** Tokens after the last complete frame (a forced event token, a cut frame). */
  readonly partial: readonly number[];
  /** The sequence holds an end token after the prompt. */
  readonly ended: boolean;
}

export function readSequence(tokenizer: CwmTokenizer, tokens: readonly number[], endIds: readonly number[] = [tokenizer.special(T.endOfText)]): ReadSequence {
  const frameSep = tokenizer.special(T.frameSep);
  const contextStart = tokens.indexOf(tokenizer.special(T.traceContextStart));
  if (contextStart < 0) throw new Error('the sequence holds no prompt');
  const promptEnd = tokens.indexOf(frameSep, contextStart) + 1;
  if (promptEnd === 0) throw new Error('the prompt is not complete');
  const events = new Map<number, FrameEvent>([
    [tokenizer.special(T.callSep), 'call'],
    [tokenizer.special(T.lineSep), 'line'],
    [tokenizer.special(T.returnSep), 'return'],
    [tokenizer.special(T.exceptionSep), 'exception'],
  ]);
  const frames: SequenceChunk[] = [];
  let current: number[] = [];
  let ended = false;
  for (const id of tokens.slice(promptEnd)) {
    if (endIds.includes(id)) ended = true;
    current.push(id);
    if (id !== frameSep) continue;
    const event = events.get(current[0]);
    frames.push(event ? { tokens: current, event } : { tokens: current });
    current = [];
  }
  return { promptEnd, frames, partial: current, ended };
}

export function startsWith(tokens: readonly number[], prefix: readonly number[]): boolean {
  return prefix.length <= tokens.length && prefix.every((id, i) => tokens[i] === id);
}
