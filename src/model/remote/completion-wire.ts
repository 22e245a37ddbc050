/**
 * Reading `/v1/completions` answers the way vLLM writes them. Token ids come from `token_ids`
 * (vLLM's `return_token_ids`, and our server) or else from `logprobs.tokens` spelled `token_id:N`
 * (vLLM's `return_tokens_as_token_ids`); the text is never re-tokenized, because the same text can
 * be spelled by different token sequences.
 */
import { isObject, isTokenId, tokenIdFromLabel } from './json-reading';

/** One streamed chunk, reduced to what a sequence needs. */
export interface StreamPiece {
  readonly kind: 'piece';
  readonly tokenIds: readonly number[];
  /** `stop`, `length`, … on the chunk that ends the choice; null before. */
  readonly finishReason: string | null;
  /** The stop token id (or stop string) that ended it; null for EOS or another reason. */
  readonly stopReason: number | string | null;
}

export type StreamChunk = StreamPiece | { readonly kind: 'error'; readonly message: string } | { readonly kind: 'invalid'; readonly reason: string };

export function readStreamChunk(value: unknown): StreamChunk {
  if (!isObject(value)) return { kind: 'invalid', reason: 'a chunk is not a JSON object' };
  const error = value.error;
  if (error !== undefined && error !== null) {
    const message = isObject(error) && typeof error.message === 'string' ? error.message : typeof error === 'string' ? error : JSON.stringify(error);
    return { kind: 'error', message };
  }
  // Old vLLM versions sent errors in the stream as {"object": "error", "message": …}.
  if (value.object === 'error') return { kind: 'error', message: typeof value.message === 'string' ? value.message : 'unknown error' };
  const choices = value.choices;
  if (!Array.isArray(choices)) return { kind: 'invalid', reason: 'a chunk has no "choices" list' };
  // The usage chunk at the end of a stream has no choices.
  if (choices.length === 0) return { kind: 'piece', tokenIds: [], finishReason: null, stopReason: null };
  if (choices.length > 1) return { kind: 'invalid', reason: `a chunk has ${choices.length} choices; one was asked for` };
  return readChoice(choices[0]);
}

function readChoice(choice: unknown): StreamChunk {
  if (!isObject(choice)) return { kind: 'invalid', reason: 'a choice is not a JSON object' };
  const ids = tokenIdsOf(choice);
  if (typeof ids === 'string') return { kind: 'invalid', reason: ids };
  const finish = choice.finish_reason;
  if (finish !== undefined && finish !== null && typeof finish !== 'string') return { kind: 'invalid', reason: '"finish_reason" is not a string' };
  const stop = choice.stop_reason;
  if (stop !== undefined && stop !== null && typeof stop !== 'string' && !isTokenId(stop)) return { kind: 'invalid', reason: '"stop_reason" is neither a token id nor a string' };
  return { kind: 'piece', tokenIds: ids, finishReason: finish ?? null, stopReason: stop ?? null };
}

function tokenIdsOf(choice: Record<string, unknown>): number[] | string {
  if (Array.isArray(choice.token_ids)) {
    return choice.token_ids.every(isTokenId) ? (choice.token_ids as number[]) : '"token_ids" holds something that is not a token id';
  }
  const logprobs = choice.logprobs;
  if (isObject(logprobs) && Array.isArray(logprobs.tokens)) {
    const ids: number[] = [];
    for (const label of logprobs.tokens) {
      const id = typeof label === 'string' ? tokenIdFromLabel(label) : undefined;
      if (id === undefined) {
        return `it spelled a token as ${JSON.stringify(label)} instead of "token_id:N": it ignored return_tokens_as_token_ids (vLLM 0.6 or newer understands it; or start vLLM with --return-tokens-as-token-ids)`;
      }
      ids.push(id);
    }
    return ids;
  }
  if (typeof choice.text === 'string' && choice.text !== '') {
    return 'it sent text without token ids (neither "token_ids" nor "logprobs.tokens"): it does not look like vLLM';
  }
  return [];
}

/** Per prompt position: log-probability by token id (null where the server gives none, e.g. position 0). */
export type PromptLogprobs = ReadonlyArray<ReadonlyMap<number, number> | null>;

/**
 * The prompt's log-probabilities from a non-streamed answer: vLLM's `prompt_logprobs` (one object
 * per position, keyed by token id) when present, else the `echo` logprobs (`token_id:N` labels).
 */
export function readPromptLogprobs(value: unknown, promptLength: number): PromptLogprobs | string {
  if (!isObject(value) || !Array.isArray(value.choices) || value.choices.length !== 1 || !isObject(value.choices[0])) {
    return 'the answer has no single choice';
  }
  const choice = value.choices[0];
  if (Array.isArray(choice.prompt_logprobs)) return fromPromptLogprobs(choice.prompt_logprobs, promptLength);
  if (isObject(choice.logprobs)) return fromEchoLogprobs(choice.logprobs, promptLength);
  return 'the answer has neither "prompt_logprobs" nor echoed "logprobs"; the server does not support prompt log-probabilities';
}

function fromPromptLogprobs(entries: unknown[], promptLength: number): PromptLogprobs | string {
  if (entries.length < promptLength) return `"prompt_logprobs" covers ${entries.length} positions, but the prompt has ${promptLength} tokens`;
  const out: (Map<number, number> | null)[] = [];
  for (let i = 0; i < promptLength; i++) {
    const entry = entries[i];
    if (entry === null) {
      out.push(null);
      continue;
    }
    if (!isObject(entry)) return `"prompt_logprobs"[${i}] is not an object`;
    const map = new Map<number, number>();
    for (const [key, item] of Object.entries(entry)) {
      const id = Number(key);
      const logprob = isObject(item) ? item.logprob : item;
      if (!isTokenId(id) || typeof logprob !== 'number') return `"prompt_logprobs"[${i}] has an entry that is not token id → {logprob}`;
      map.set(id, logprob);
    }
    out.push(map);
  }
  return out;
}

function fromEchoLogprobs(logprobs: Record<string, unknown>, promptLength: number): PromptLogprobs | string {
  const { tokens, token_logprobs: tokenLogprobs, top_logprobs: topLogprobs } = logprobs;
  if (!Array.isArray(tokens) || !Array.isArray(tokenLogprobs) || !Array.isArray(topLogprobs)) return 'the echoed "logprobs" lack tokens, token_logprobs or top_logprobs';
  if (tokens.length < promptLength || tokenLogprobs.length < promptLength || topLogprobs.length < promptLength) {
    return `the echoed "logprobs" cover ${tokens.length} tokens, but the prompt has ${promptLength}`;
  }
  const out: (Map<number, number> | null)[] = [];
  for (let i = 0; i < promptLength; i++) {
    const own = tokenLogprobs[i];
    const top = topLogprobs[i];
    if (own === null || top === null) {
      out.push(null);
      continue;
    }
    const id = typeof tokens[i] === 'string' ? tokenIdFromLabel(tokens[i] as string) : undefined;
    if (id === undefined) return `the echoed token ${JSON.stringify(tokens[i])} is not spelled "token_id:N": the server ignored return_tokens_as_token_ids`;
    if (typeof own !== 'number' || !isObject(top)) return `the echoed logprobs at position ${i} are malformed`;
    const map = new Map<number, number>([[id, own]]);
    for (const [label, logprob] of Object.entries(top)) {
      const alternative = tokenIdFromLabel(label);
      if (alternative === undefined || typeof logprob !== 'number') return `the echoed top_logprobs at position ${i} are not keyed "token_id:N"`;
      map.set(alternative, logprob);
    }
    out.push(map);
  }
  return out;
}

/** The most likely token of a position (ties go to the lowest id, as in greedy decoding). */
export function topOf(map: ReadonlyMap<number, number>): { id: number; logprob: number } {
  let best = { id: -1, logprob: -Infinity };
  for (const [id, logprob] of map) {
    if (logprob > best.logprob || (logprob === best.logprob && id < best.id)) best = { id, logprob };
  }
  return best;
}
