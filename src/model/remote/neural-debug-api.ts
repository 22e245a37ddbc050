/**
 * What `neural-debug serve` adds to the vLLM/OpenAI API, shared by the server and the client: a
 * route that describes the model (with its tokenizer, so a client needs no local files), a marker in
 * `/v1/models` by which the client knows it talks to our server, and request fields only our server
 * reads (vLLM ignores fields it does not know).
 */
import { SPECIAL_TOKENS, SpecialToken } from '../../trace/tokens';
import { isObject, isTokenId, JsonObject } from './json-reading';

export const MODEL_DESCRIPTION_PATH = '/v1/neural-debug/model';

/** `owned_by` of our server's entries in `/v1/models` (vLLM writes `vllm`). */
export const NEURAL_DEBUG_OWNER = 'neural-debug';

/**
 * Completion request field: positions of the prompt before this one get no prompt log-probabilities.
 * Scoring a short continuation after a long trace then costs only the continuation on our server,
 * which can reuse its cached prefix; vLLM computes them all.
 */
export const SCORE_FROM_FIELD = 'neural_debug_score_from';

export interface ModelDescription {
  readonly name: string;
  readonly vocabSize: number;
  readonly contextLength: number;
  readonly specialTokens: Readonly<Record<SpecialToken, number>>;
  readonly eosTokenIds: readonly number[];
  /** The Hugging Face tokenizer.json, as an object. */
  readonly tokenizer: JsonObject;
}

/** Checks a description that came over the network; returns a reason when it is not one. */
export function readModelDescription(value: unknown): ModelDescription | string {
  if (!isObject(value)) return 'it is not a JSON object';
  const { name, vocabSize, contextLength, specialTokens, eosTokenIds, tokenizer } = value;
  if (typeof name !== 'string') return '"name" is missing';
  if (!isTokenId(vocabSize) || vocabSize === 0) return '"vocabSize" is not a positive integer';
  if (!isTokenId(contextLength) || contextLength === 0) return '"contextLength" is not a positive integer';
  if (!isObject(specialTokens)) return '"specialTokens" is missing';
  const special = {} as Record<SpecialToken, number>;
  for (const token of Object.values(SPECIAL_TOKENS)) {
    const id = specialTokens[token];
    if (!isTokenId(id)) return `"specialTokens" has no id for ${token}`;
    special[token] = id;
  }
  if (!Array.isArray(eosTokenIds) || !eosTokenIds.every(isTokenId)) return '"eosTokenIds" is not a list of token ids';
  if (!isObject(tokenizer) || !isObject(tokenizer.model)) return '"tokenizer" is not a tokenizer.json object';
  return { name, vocabSize, contextLength, specialTokens: special, eosTokenIds: eosTokenIds as number[], tokenizer };
}
