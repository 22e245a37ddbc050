/**
 * Runs one completion job on the backend: take the cached sequence sharing the longest prefix,
 * feed the rest of the prompt (scoring it where prompt log-probabilities were asked for), generate,
 * and give the sequence back to the cache. Knows nothing of HTTP.
 */
import { isCancelled, ModelBackend, ModelSequence, TokenScore } from '../backend';
import type { CompletionJob } from './completion-request';
import type { FinishReasonText } from './completion-format';
import type { PrefixCache } from './prefix-cache';
import { TextRenderer } from './text-render';

export interface RunEnvironment {
  readonly backend: ModelBackend;
  readonly cache: PrefixCache;
  /** Added tokens flagged special (what skip_special_tokens leaves out). */
  readonly specialIds: ReadonlySet<number>;
}

export interface CompletionOutcome {
  /** Per prompt position: its score, or null (position 0, positions before scoreFrom, or none asked). */
  readonly promptScores?: readonly (TokenScore | null)[];
  /** Generated ids, the stop token included (as vLLM's token_ids). */
  readonly generated: readonly number[];
  /** Scores of the generated tokens, when logprobs were asked for. */
  readonly generatedScores?: readonly TokenScore[];
  /** Text of the generated tokens, without the stop token's. */
  readonly text: string;
  /** The end of `text` that no onToken call carried (bytes held back until the end). */
  readonly tail: string;
  readonly finishReason: FinishReasonText;
  /** The stop token from stop_token_ids that ended it; null for EOS or length (as vLLM). */
  readonly stopReason: number | null;
  /** Prompt tokens that came from the cache rather than being computed. */
  readonly reused: number;
}

/** Receives each generated token as soon as it is chosen, with the text it adds. */
export type TokenListener = (id: number, text: string) => void;

export async function runCompletion(job: CompletionJob, env: RunEnvironment, signal: AbortSignal, onToken?: TokenListener): Promise<CompletionOutcome> {
  const { prompt } = job;
  const wantsPromptScores = job.promptLogprobs !== undefined || (job.echo && job.logprobs !== undefined);
  // Positions from here on need log-probabilities, so the cached prefix may only reach this far.
  const scoreFrom = wantsPromptScores ? Math.min(Math.max(1, job.scoreFrom), prompt.length) : prompt.length;
  const { sequence, reused } = await env.cache.take(prompt, scoreFrom);
  try {
    const outcome = await runOn(sequence, job, env, scoreFrom, wantsPromptScores, signal, onToken);
    env.cache.put(sequence);
    return { ...outcome, reused };
  } catch (error) {
    // A cancelled generation leaves a consistent sequence (the prompt and what was generated):
    // worth keeping, since a client that hung up often comes back with the same prompt.
    if (isCancelled(error)) env.cache.put(sequence);
    else sequence.dispose();
    throw error;
  }
}

async function runOn(
  sequence: ModelSequence,
  job: CompletionJob,
  env: RunEnvironment,
  scoreFrom: number,
  wantsPromptScores: boolean,
  signal: AbortSignal,
  onToken: TokenListener | undefined,
): Promise<Omit<CompletionOutcome, 'reused'>> {
  const { prompt } = job;
  if (sequence.length < scoreFrom) await sequence.append(prompt.slice(sequence.length, scoreFrom));
  let promptScores: (TokenScore | null)[] | undefined;
  if (scoreFrom < prompt.length) {
    const scored = await sequence.score(prompt.slice(scoreFrom), { append: true, signal });
    promptScores = wantsPromptScores ? [...new Array<null>(scoreFrom).fill(null), ...scored] : undefined;
  } else if (wantsPromptScores) {
    promptScores = new Array<null>(prompt.length).fill(null);
  }
  if (job.maxTokens === 0) return { ...(promptScores ? { promptScores } : {}), generated: [], text: '', tail: '', finishReason: 'length', stopReason: null };

  const stops = new Set(job.stopTokenIds);
  if (!job.ignoreEos) for (const id of env.backend.info.eosTokenIds) stops.add(id);
  const renderer = new TextRenderer(env.backend.tokenizer, job, env.specialIds);
  let text = '';
  const budget = Math.min(job.maxTokens, env.backend.info.contextLength - prompt.length);
  const result = await sequence.generate({
    maxTokens: budget,
    stopTokenIds: [...stops],
    temperature: job.temperature,
    topP: job.topP,
    ...(job.seed !== undefined ? { seed: job.seed } : {}),
    signal,
    onToken: (id) => {
      // Like vLLM, the stop token is in token_ids but not in the text.
      const piece = stops.has(id) && !job.includeStopInText ? '' : renderer.push(id);
      text += piece;
      onToken?.(id, piece);
    },
  });
  const tail = renderer.flush();
  text += tail;
  const generated = [...result.tokens];
  const last = generated[generated.length - 1];
  const stoppedByToken = result.finishReason === 'stop';
  const stopReason = stoppedByToken && last !== undefined && job.stopTokenIds.includes(last) ? last : null;

  let generatedScores: TokenScore[] | undefined;
  if (job.logprobs !== undefined && generated.length > 0) {
    // The backend's generate gives no log-probabilities: one teacher-forced pass over what it chose.
    await sequence.truncate(prompt.length);
    generatedScores = await sequence.score(generated, { append: true, signal });
  }
  return {
    ...(promptScores ? { promptScores } : {}),
    generated,
    ...(generatedScores ? { generatedScores } : {}),
    text,
    tail,
    finishReason: stoppedByToken ? 'stop' : 'length',
    stopReason,
  };
}
