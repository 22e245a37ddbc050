/**
 * A sequence on a remote server is only a list of token ids held here: every request re-sends it
 * whole and the server's prefix cache finds the shared part, so append, truncate and fork cost
 * nothing. Like the in-process engine, generated tokens join the sequence as they arrive, a stop
 * token always ends the sequence it stopped, and a failed or cancelled generation keeps what had
 * arrived.
 */
import { GenerateOptions, GenerateResult, ModelError, ModelSequence, ScoreOptions, TokenScore } from '../backend';
import { readPromptLogprobs, readStreamChunk, topOf } from './completion-wire';
import { RetryableError } from './http-exchange';
import { SCORE_FROM_FIELD } from './neural-debug-api';
import type { RemoteClient } from './remote-client';

/** What a sequence needs of its backend. */
export interface RemoteModel {
  readonly client: RemoteClient;
  /** The model id requests name. */
  readonly model: string;
  readonly vocabSize: number;
  readonly contextLength: number;
  readonly eosTokenIds: readonly number[];
  /** The server is `neural-debug serve`: it sends token ids without log-probabilities and reads SCORE_FROM_FIELD. */
  readonly ours: boolean;
}

interface Finish {
  readonly reason: string;
  readonly stopReason: number | string | null;
}

const COMPLETIONS = '/v1/completions';

export class RemoteSequence implements ModelSequence {
  private disposed = false;
  /** Operations run one after another, as they would on a single-threaded engine. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly remote: RemoteModel,
    private ids: number[],
  ) {}

  get length(): number {
    return this.ids.length;
  }

  tokens(): number[] {
    return [...this.ids];
  }

  append(tokens: readonly number[]): Promise<void> {
    return this.serial(async () => {
      this.checkTokens(tokens, this.ids.length);
      this.ids.push(...tokens);
    });
  }

  truncate(length: number): Promise<void> {
    return this.serial(async () => {
      if (!Number.isInteger(length) || length < 0) throw new ModelError('bad-request', `cannot truncate to ${length} tokens`);
      if (length < this.ids.length) this.ids.length = length;
    });
  }

  fork(): Promise<ModelSequence> {
    return this.serial(async () => new RemoteSequence(this.remote, [...this.ids]));
  }

  generate(options: GenerateOptions): Promise<GenerateResult> {
    return this.serial(() => this.runGenerate(options));
  }

  score(continuation: readonly number[], options: ScoreOptions = {}): Promise<TokenScore[]> {
    return this.serial(() => this.runScore(continuation, options));
  }

  dispose(): void {
    this.disposed = true;
    this.ids = [];
  }

  private async runGenerate(options: GenerateOptions): Promise<GenerateResult> {
    const { maxTokens, stopTokenIds, signal } = options;
    if (!Number.isInteger(maxTokens) || maxTokens < 0) throw new ModelError('bad-request', `maxTokens must be a whole number of tokens, not ${maxTokens}`);
    this.checkTokens(stopTokenIds, 0);
    if (signal?.aborted) throw new ModelError('cancelled', 'cancelled');
    if (this.ids.length === 0) throw new ModelError('bad-request', 'an empty sequence has no next-token distribution: append a prompt first');
    const { contextLength } = this.remote;
    const budget = Math.min(maxTokens, contextLength - this.ids.length);
    if (maxTokens === 0) return { tokens: [], finishReason: 'length' };
    if (budget <= 0) return { tokens: [], finishReason: 'context' };

    const stops = new Set(stopTokenIds);
    const generated: number[] = [];
    const take = (id: number): void => {
      generated.push(id);
      this.ids.push(id);
      options.onToken?.(id);
    };
    const where = `${this.remote.client.where}${COMPLETIONS}`;

    // Whether what has arrived is already complete (the connection died before the closing chunk).
    const completed = (): Finish | undefined => {
      const last = generated[generated.length - 1];
      if (last !== undefined && stops.has(last)) return { reason: 'stop', stopReason: last };
      if (generated.length >= budget) return { reason: 'length', stopReason: null };
      return undefined;
    };
    // Each attempt asks for what is still missing; an attempt cut short by a dead connection keeps
    // its tokens, and the next one continues from them (a resumed sampled run differs from an
    // uninterrupted one: the server's random state starts afresh).
    const finish = await this.remote.client.withRetries(signal, async (callSignal): Promise<Finish> => {
      const already = completed();
      if (already) return already;
      let ended: Finish | undefined;
      const stream = this.remote.client.stream(COMPLETIONS, this.generateBody(options, budget - generated.length), callSignal, (value) => {
        const chunk = readStreamChunk(value);
        if (chunk.kind === 'error') throw new ModelError('inference', `${where} failed while generating: ${this.remote.client.clean(chunk.message)}`);
        if (chunk.kind === 'invalid') throw new ModelError('protocol', `${where}: ${chunk.reason}`);
        if (ended && chunk.tokenIds.length > 0) throw new ModelError('protocol', `${where} sent tokens after saying the generation was over`);
        for (const id of chunk.tokenIds) {
          if (generated.length >= budget) throw new ModelError('protocol', `${where} sent more tokens than the ${budget} asked for`);
          // An id the tokenizer does not know means another model or a broken server: nothing after it can be read.
          if (!Number.isInteger(id) || id < 0 || id >= this.remote.vocabSize) {
            throw new ModelError('protocol', `${where} sent token id ${id}, outside the vocabulary of ${this.remote.vocabSize} tokens: is it serving another model than the tokenizer's?`);
          }
          take(id);
        }
        if (chunk.finishReason !== null) ended = { reason: chunk.finishReason, stopReason: chunk.stopReason };
      });
      let done: boolean;
      try {
        ({ done } = await stream);
      } catch (error) {
        const complete = ended ?? completed();
        if (error instanceof RetryableError && complete) return complete;
        throw error;
      }
      if (ended) return ended;
      if (done) throw new ModelError('protocol', `${where} ended its stream without saying why the generation stopped (no finish_reason)`);
      throw new RetryableError('connect', `${where} stopped streaming before the generation was over`);
    });

    switch (finish.reason) {
      case 'stop': {
        const last = generated[generated.length - 1];
        if (typeof finish.stopReason === 'number') {
          // vLLM may leave the stop token out of what it sends; the sequence must end with it.
          if (last !== finish.stopReason) take(finish.stopReason);
        } else if (finish.stopReason === null && (last === undefined || (!stops.has(last) && !this.remote.eosTokenIds.includes(last)))) {
          // No stop reason means the model's own end-of-sequence token.
          const eos = this.remote.eosTokenIds[0];
          if (eos !== undefined) take(eos);
        }
        return { tokens: generated, finishReason: 'stop' };
      }
      case 'length':
        return { tokens: generated, finishReason: this.ids.length >= contextLength ? 'context' : 'length' };
      case 'abort':
        throw new ModelError('inference', `${where} aborted the generation (finish_reason "abort"); the server may be restarting or out of memory`);
      default:
        throw new ModelError('protocol', `${where} ended the generation for a reason this client does not know: "${finish.reason}"`);
    }
  }

  private generateBody(options: GenerateOptions, maxTokens: number): Record<string, unknown> {
    const body: Record<string, unknown> = {
      model: this.remote.model,
      prompt: this.ids,
      max_tokens: maxTokens,
      temperature: options.temperature ?? 0,
      top_p: options.topP ?? 1,
      stop_token_ids: [...options.stopTokenIds],
      // Stop exactly where the caller said, like the engine: the model's EOS ends a generation only
      // when it is among stopTokenIds.
      ignore_eos: true,
      skip_special_tokens: false,
      spaces_between_special_tokens: false,
      stream: true,
      return_token_ids: true,
    };
    if (options.seed !== undefined) body.seed = options.seed;
    if (!this.remote.ours) {
      // Servers without return_token_ids (vLLM before 0.10.2) still tell ids through logprobs.
      body.logprobs = 0;
      body.return_tokens_as_token_ids = true;
    }
    return body;
  }

  private async runScore(continuation: readonly number[], options: ScoreOptions): Promise<TokenScore[]> {
    this.checkTokens(continuation, this.ids.length);
    if (options.signal?.aborted) throw new ModelError('cancelled', 'cancelled');
    if (continuation.length === 0) return [];
    if (this.ids.length === 0) throw new ModelError('bad-request', 'score needs a sequence that is not empty: the first token has nothing before it to be judged by');
    const before = this.ids.length;
    const prompt = [...this.ids, ...continuation];
    const value = await this.remote.client.json('POST', COMPLETIONS, this.scoreBody(prompt, before), options.signal);
    const where = `${this.remote.client.where}${COMPLETIONS}`;
    const positions = readPromptLogprobs(value, prompt.length);
    if (typeof positions === 'string') throw new ModelError('protocol', `${where}: ${positions}`);
    const scores: TokenScore[] = continuation.map((tokenId, i) => {
      const map = positions[before + i];
      const logprob = map?.get(tokenId);
      if (!map || logprob === undefined) throw new ModelError('protocol', `${where} gave no log-probability for prompt position ${before + i}`);
      const top = topOf(map);
      return { tokenId, logprob, topTokenId: top.id, topLogprob: top.logprob };
    });
    if (options.append) this.ids.push(...continuation);
    return scores;
  }

  private scoreBody(prompt: readonly number[], scoreFrom: number): Record<string, unknown> {
    if (this.remote.ours) {
      return { model: this.remote.model, prompt, max_tokens: 0, prompt_logprobs: 1, [SCORE_FROM_FIELD]: scoreFrom };
    }
    return {
      model: this.remote.model,
      prompt,
      // One token is the least every vLLM version accepts; none when the prompt fills the context.
      max_tokens: prompt.length < this.remote.contextLength ? 1 : 0,
      temperature: 0,
      echo: true,
      logprobs: 1,
      prompt_logprobs: 1,
      return_tokens_as_token_ids: true,
      skip_special_tokens: false,
      ignore_eos: true,
    };
  }

  private serial<T>(operation: () => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      if (this.disposed) throw new ModelError('bad-request', 'this sequence was disposed');
      if (this.remote.client.isClosed) throw new ModelError('closed', `the connection to ${this.remote.client.where} was closed`);
      return operation();
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private checkTokens(tokens: readonly number[], already: number): void {
    const { vocabSize, contextLength } = this.remote;
    for (const token of tokens) {
      if (!Number.isInteger(token) || token < 0 || token >= vocabSize) throw new ModelError('bad-request', `token id ${token} is outside the model's vocabulary (0..${vocabSize - 1})`);
    }
    if (already + tokens.length > contextLength) {
      throw new ModelError('context', `${already + tokens.length} tokens do not fit the model's context of ${contextLength}`);
    }
  }
}
