/**
 * The JSON of completion answers, shaped as vLLM writes them (so OpenAI clients and our own remote
 * backend read them alike): the response object, streamed chunks, the OpenAI `logprobs` block and
 * vLLM's `prompt_logprobs` list.
 */
import { randomUUID } from 'node:crypto';
import type { TokenScore } from '../backend';

export type FinishReasonText = 'stop' | 'length';

/** The OpenAI completions `logprobs` block. */
export interface LogprobsBlock {
  readonly text_offset: number[];
  readonly token_logprobs: (number | null)[];
  readonly tokens: string[];
  readonly top_logprobs: (Record<string, number> | null)[];
}

/** One position of vLLM's `prompt_logprobs`: token id → its log-probability and rank (1 = top; null = unknown). */
export type PromptLogprobEntry = Record<string, { logprob: number; rank: number | null; decoded_token: string }>;

export interface ChoiceFields {
  readonly text: string;
  readonly logprobs?: LogprobsBlock | null;
  readonly finishReason: FinishReasonText | null;
  readonly stopReason: number | null;
  readonly tokenIds?: readonly number[];
  readonly promptTokenIds?: readonly number[];
  readonly promptLogprobs?: readonly (PromptLogprobEntry | null)[];
}

export interface Usage {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly total_tokens: number;
}

export function completionId(): string {
  return `cmpl-${randomUUID().replace(/-/g, '')}`;
}

export function usageOf(promptTokens: number, completionTokens: number): Usage {
  return { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
}

export function choiceJson(fields: ChoiceFields): Record<string, unknown> {
  const choice: Record<string, unknown> = {
    index: 0,
    text: fields.text,
    logprobs: fields.logprobs ?? null,
    finish_reason: fields.finishReason,
    stop_reason: fields.stopReason,
  };
  if (fields.tokenIds) choice.token_ids = [...fields.tokenIds];
  if (fields.promptTokenIds) choice.prompt_token_ids = [...fields.promptTokenIds];
  if (fields.promptLogprobs) choice.prompt_logprobs = fields.promptLogprobs;
  return choice;
}

export interface AnswerHeader {
  readonly id: string;
  readonly created: number;
  readonly model: string;
}

export function completionJson(header: AnswerHeader, choice: ChoiceFields, usage: Usage): Record<string, unknown> {
  return { id: header.id, object: 'text_completion', created: header.created, model: header.model, choices: [choiceJson(choice)], usage };
}

export function chunkJson(header: AnswerHeader, choice: ChoiceFields): Record<string, unknown> {
  return { id: header.id, object: 'text_completion', created: header.created, model: header.model, choices: [choiceJson(choice)] };
}

/** The last chunk of a stream when the client asked for usage (`stream_options.include_usage`). */
export function usageChunkJson(header: AnswerHeader, usage: Usage): Record<string, unknown> {
  return { id: header.id, object: 'text_completion', created: header.created, model: header.model, choices: [], usage };
}

/**
 * The OpenAI `logprobs` block for `ids`; `scores[i]` null where there is no log-probability (the
 * first prompt token). `width` 0 lists only the token itself among the alternatives, 1 also the top one.
 */
export function logprobsBlock(
  ids: readonly number[],
  scores: readonly (TokenScore | null)[],
  width: 0 | 1,
  label: (id: number) => string,
  initialOffset: number,
): LogprobsBlock {
  const block: LogprobsBlock = { text_offset: [], token_logprobs: [], tokens: [], top_logprobs: [] };
  let offset = initialOffset;
  ids.forEach((id, i) => {
    const token = label(id);
    const score = scores[i];
    block.tokens.push(token);
    block.text_offset.push(offset);
    offset += token.length;
    if (!score) {
      block.token_logprobs.push(null);
      block.top_logprobs.push(null);
      return;
    }
    block.token_logprobs.push(clamp(score.logprob));
    const top: Record<string, number> = { [token]: clamp(score.logprob) };
    if (width >= 1) top[label(score.topTokenId)] = clamp(score.topLogprob);
    block.top_logprobs.push(top);
  });
  return block;
}

/** vLLM's `prompt_logprobs`: per prompt position, the token's entry and (width 1) the top one's. */
export function promptLogprobsList(
  prompt: readonly number[],
  scores: readonly (TokenScore | null)[],
  width: 0 | 1,
  decode: (id: number) => string,
): (PromptLogprobEntry | null)[] {
  return prompt.map((id, i) => {
    const score = scores[i];
    if (!score) return null;
    const isTop = score.topTokenId === id;
    const entry: PromptLogprobEntry = { [id]: { logprob: clamp(score.logprob), rank: isTop ? 1 : null, decoded_token: decode(id) } };
    if (width >= 1 && !isTop) entry[score.topTokenId] = { logprob: clamp(score.topLogprob), rank: 1, decoded_token: decode(score.topTokenId) };
    return entry;
  });
}

/** JSON has no -Infinity; OpenAI and vLLM write -9999 for an impossible token. */
function clamp(logprob: number): number {
  return Number.isFinite(logprob) ? Math.max(logprob, -9999) : -9999;
}
