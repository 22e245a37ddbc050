/**
 * A `/v1/completions` request body, checked field by field into a job the server can run. The
 * subset is what vLLM's completions API offers for one raw prompt; a parameter this server cannot
 * honour is refused with a 400 that names it, never silently ignored.
 */
import type { CwmTokenizer } from '../tokenizer';
import { isObject, isTokenId, JsonObject } from '../remote/json-reading';
import { SCORE_FROM_FIELD } from '../remote/neural-debug-api';
import { ApiError } from './api-error';

export interface CompletionJob {
  readonly prompt: readonly number[];
  /** As asked (0 with echo or prompt_logprobs: score the prompt, generate nothing). */
  readonly maxTokens: number;
  readonly temperature: number;
  readonly topP: number;
  readonly seed?: number;
  readonly stopTokenIds: readonly number[];
  /** Without it the model's EOS ids stop generation too, as in vLLM. */
  readonly ignoreEos: boolean;
  readonly skipSpecialTokens: boolean;
  readonly spacesBetweenSpecialTokens: boolean;
  readonly includeStopInText: boolean;
  readonly stream: boolean;
  readonly includeUsage: boolean;
  readonly echo: boolean;
  /** Log-probabilities of generated (and, with echo, prompt) tokens, with this many alternatives. */
  readonly logprobs?: 0 | 1;
  /** vLLM's `prompt_logprobs` field of the choice. */
  readonly promptLogprobs?: 0 | 1;
  /** Token strings in logprobs spelled `token_id:N`. */
  readonly tokensAsIds: boolean;
  /** `token_ids` (and `prompt_token_ids`) in each choice. */
  readonly returnTokenIds: boolean;
  /** First prompt position that gets a log-probability (earlier ones are null). */
  readonly scoreFrom: number;
}

export interface ModelLimits {
  readonly modelId: string;
  readonly tokenizer: CwmTokenizer;
  /** Every prompt token id is below this (the tokenizer's and the model's vocabularies both know it). */
  readonly tokenLimit: number;
  readonly contextLength: number;
}

/** vLLM's default when max_tokens is absent or null. */
const DEFAULT_MAX_TOKENS = 16;

export function parseCompletionRequest(body: unknown, limits: ModelLimits): CompletionJob {
  if (!isObject(body)) throw new ApiError(400, 'the request body must be a JSON object');
  refuseUnsupported(body);
  if (body.model !== undefined && body.model !== null && body.model !== limits.modelId) {
    throw new ApiError(404, `The model \`${String(body.model)}\` does not exist. This server serves \`${limits.modelId}\`.`, 'model');
  }
  const prompt = readPrompt(body.prompt, limits);
  const stream = readBoolean(body, 'stream', false);
  const echo = readBoolean(body, 'echo', false);
  const logprobs = readLogprobCount(body, 'logprobs');
  const promptLogprobsAsked = readLogprobCount(body, 'prompt_logprobs');
  if (stream && promptLogprobsAsked !== undefined && promptLogprobsAsked > 0) {
    throw new ApiError(400, '`prompt_logprobs` are not available when `stream=True`.', 'prompt_logprobs');
  }
  // As in vLLM: echo with logprobs implies prompt log-probabilities of the same width.
  const promptLogprobs = promptLogprobsAsked ?? (echo ? logprobs : undefined);
  const maxTokens = body.max_tokens === undefined || body.max_tokens === null ? DEFAULT_MAX_TOKENS : readInteger(body, 'max_tokens', 0);
  if (maxTokens === 0 && !echo && promptLogprobs === undefined) {
    throw new ApiError(400, 'max_tokens must be at least 1 (0 is only meaningful with echo or prompt_logprobs)', 'max_tokens');
  }
  const fill = prompt.length + (maxTokens > 0 ? 1 : 0);
  if (fill > limits.contextLength) {
    throw new ApiError(
      400,
      `This model's maximum context length is ${limits.contextLength} tokens. However, your request has ${prompt.length} input tokens` +
        (maxTokens > 0 ? ' and asks for at least 1 more. Please reduce the length of the input.' : '. Please reduce the length of the input.'),
      'prompt',
    );
  }
  const stopTokenIds = readTokenIds(body, 'stop_token_ids', limits);
  const scoreFrom = body[SCORE_FROM_FIELD] === undefined || body[SCORE_FROM_FIELD] === null ? 1 : Math.max(1, readInteger(body, SCORE_FROM_FIELD, 0));
  const streamOptions = body.stream_options;
  if (streamOptions !== undefined && streamOptions !== null) {
    if (!stream) throw new ApiError(400, 'Stream options can only be defined when `stream=True`.', 'stream_options');
    if (!isObject(streamOptions)) throw new ApiError(400, '`stream_options` must be an object', 'stream_options');
  }
  const seed = body.seed === undefined || body.seed === null ? undefined : readInteger(body, 'seed', Number.MIN_SAFE_INTEGER);
  return {
    prompt,
    maxTokens,
    temperature: readNumber(body, 'temperature', 1, 0, 100),
    topP: readTopP(body),
    ...(seed !== undefined ? { seed } : {}),
    stopTokenIds,
    ignoreEos: readBoolean(body, 'ignore_eos', false),
    skipSpecialTokens: readBoolean(body, 'skip_special_tokens', true),
    spacesBetweenSpecialTokens: readBoolean(body, 'spaces_between_special_tokens', true),
    includeStopInText: readBoolean(body, 'include_stop_str_in_output', false),
    stream,
    includeUsage: isObject(streamOptions) && streamOptions.include_usage === true,
    echo,
    ...(logprobs !== undefined ? { logprobs } : {}),
    ...(promptLogprobs !== undefined ? { promptLogprobs } : {}),
    tokensAsIds: readBoolean(body, 'return_tokens_as_token_ids', false),
    returnTokenIds: readBoolean(body, 'return_token_ids', false),
    scoreFrom,
  };
}

/** A prompt: token ids, or text encoded as ordinary text (no BOS added); one prompt per request. */
export function readPrompt(value: unknown, limits: ModelLimits, field = 'prompt'): number[] {
  let prompt: unknown = value;
  if (Array.isArray(prompt) && prompt.length === 1 && (typeof prompt[0] === 'string' || Array.isArray(prompt[0]))) prompt = prompt[0];
  if (typeof prompt === 'string') {
    if (prompt === '') throw new ApiError(400, 'the prompt is empty', field);
    // Encoding a huge text blocks the server for seconds: refuse what cannot fit before encoding it.
    const atLeast = Math.ceil(prompt.length / limits.tokenizer.longestTokenLength);
    if (atLeast > limits.contextLength) {
      throw new ApiError(400, `This model's maximum context length is ${limits.contextLength} tokens. However, your prompt has at least ${atLeast} tokens (${prompt.length} characters). Please reduce the length of the input.`, field);
    }
    return limits.tokenizer.encodeText(prompt);
  }
  if (!Array.isArray(prompt)) throw new ApiError(400, `\`${field}\` must be a string or a list of token ids`, field);
  if (prompt.length === 0) throw new ApiError(400, 'the prompt is empty', field);
  if (prompt.some((item) => typeof item === 'string' || Array.isArray(item))) {
    throw new ApiError(400, 'this server takes one prompt per request (a string or one list of token ids)', field);
  }
  checkTokenIds(prompt, field, limits);
  return prompt as number[];
}

function readTokenIds(body: JsonObject, field: string, limits: ModelLimits): number[] {
  const value = body[field];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new ApiError(400, `\`${field}\` must be a list of token ids`, field);
  checkTokenIds(value, field, limits);
  return value as number[];
}

function checkTokenIds(values: readonly unknown[], field: string, limits: ModelLimits): void {
  values.forEach((id, i) => {
    if (!isTokenId(id)) throw new ApiError(400, `\`${field}\`[${i}] is ${JSON.stringify(id)}, not a token id`, field);
    if (id >= limits.tokenLimit) throw new ApiError(400, `token id ${id} at \`${field}\`[${i}] is out of vocabulary (ids run from 0 to ${limits.tokenLimit - 1})`, field);
  });
}

function readBoolean(body: JsonObject, field: string, fallback: boolean): boolean {
  const value = body[field];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') throw new ApiError(400, `\`${field}\` must be true or false`, field);
  return value;
}

function readNumber(body: JsonObject, field: string, fallback: number, min: number, max: number): number {
  const value = body[field];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new ApiError(400, `\`${field}\` must be a number from ${min} to ${max}`, field);
  }
  return value;
}

function readInteger(body: JsonObject, field: string, min: number): number {
  const value = body[field];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new ApiError(400, `\`${field}\` must be a whole number${min === 0 ? ' (0 or more)' : ''}`, field);
  }
  return value;
}

function readTopP(body: JsonObject): number {
  const topP = readNumber(body, 'top_p', 1, 0, 1);
  if (topP === 0) throw new ApiError(400, '`top_p` must be in (0, 1]', 'top_p');
  return topP;
}

/** 0 or 1: the backend knows a token's own log-probability and the single most likely alternative. */
function readLogprobCount(body: JsonObject, field: string): 0 | 1 | undefined {
  const value = body[field];
  if (value === undefined || value === null || value === false) return undefined;
  if (value === true) return 0;
  if (value === 0 || value === 1) return value;
  throw new ApiError(400, `\`${field}\` must be 0 or 1 on this server: its model reports a token's log-probability and the single most likely alternative`, field);
}

/** Parameters whose non-default values this server cannot honour. */
function refuseUnsupported(body: JsonObject): void {
  const refuse = (field: string, why: string): never => {
    throw new ApiError(400, `\`${field}\` is not supported by this server: ${why}`, field);
  };
  if (body.n !== undefined && body.n !== null && body.n !== 1) refuse('n', 'it generates one choice per request');
  if (body.best_of !== undefined && body.best_of !== null && body.best_of !== 1) refuse('best_of', 'it generates one choice per request');
  if (body.use_beam_search === true) refuse('use_beam_search', 'it samples or decodes greedily');
  const stop = body.stop;
  if (stop !== undefined && stop !== null && !(Array.isArray(stop) && stop.length === 0) && stop !== '') refuse('stop', 'stop strings are not supported; use stop_token_ids');
  if (typeof body.suffix === 'string' && body.suffix !== '') refuse('suffix', 'the model does not fill in the middle');
  if (isObject(body.logit_bias) && Object.keys(body.logit_bias).length > 0) refuse('logit_bias', 'the backend samples from unmodified logits');
  for (const [field, neutral] of [
    ['frequency_penalty', 0],
    ['presence_penalty', 0],
    ['repetition_penalty', 1],
    ['min_p', 0],
    ['min_tokens', 0],
  ] as const) {
    const value = body[field];
    if (value !== undefined && value !== null && value !== neutral) refuse(field, 'the backend samples with temperature and top_p only');
  }
  const topK = body.top_k;
  if (topK !== undefined && topK !== null && topK !== 0 && topK !== -1) refuse('top_k', 'the backend samples with temperature and top_p only');
  for (const field of ['allowed_token_ids', 'bad_words', 'prompt_embeds', 'response_format', 'structured_outputs', 'guided_json', 'guided_regex', 'guided_choice', 'guided_grammar']) {
    const value = body[field];
    if (value !== undefined && value !== null && !(Array.isArray(value) && value.length === 0)) refuse(field, 'constrained decoding is not available');
  }
}
