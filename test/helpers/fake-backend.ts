/**
 * A ModelBackend with no neural network: an "oracle" says what a model would write after a given token
 * sequence, and the fake implements the whole ModelSequence contract around it (budget, stop tokens,
 * context limit, cancellation, fork, truncate, teacher-forced scoring). Every call is counted, so tests
 * can prove that a command made no model call.
 */
import * as path from 'node:path';
import { GenerateOptions, GenerateResult, ModelBackend, ModelError, ModelInfo, ModelSequence, SamplingOptions, ScoreOptions, TokenScore } from '../../src/model/backend';
import { CwmTokenizer } from '../../src/model/tokenizer';
import { SPECIAL_TOKENS } from '../../src/trace/tokens';
import { REPO_ROOT } from './env';

/** Log-probability the fake gives every token that is not its choice. */
export const WRONG_LOGPROB = -10;

const TOKENIZER_FILE = path.join(REPO_ROOT, 'test', 'fixtures', 'models', 'tiny-cwm', 'tokenizer.json');
let tokenizer: CwmTokenizer | undefined;

/** The tiny test model's tokenizer: CWM's special tokens on a small byte-level BPE. */
export function testTokenizer(): CwmTokenizer {
  tokenizer ??= CwmTokenizer.fromFile(TOKENIZER_FILE);
  return tokenizer;
}

/** What a model would write next after `context`: one or more tokens. */
export interface Oracle {
  next(context: readonly number[], sampling: SamplingOptions): readonly number[];
}

export interface FakeBackendOptions {
  readonly contextLength?: number;
  readonly eosTokenIds?: readonly number[];
}

export class FakeBackend implements ModelBackend {
  readonly info: ModelInfo;
  readonly calls = { createSequence: 0, append: 0, generate: 0, truncate: 0, fork: 0, score: 0, generatedTokens: 0 };
  private closed = false;

  constructor(
    readonly tokenizer: CwmTokenizer,
    readonly oracle: Oracle,
    options: FakeBackendOptions = {},
  ) {
    this.info = {
      name: 'fake',
      backend: 'onnx',
      device: 'cpu',
      vocabSize: tokenizer.size,
      contextLength: options.contextLength ?? 1 << 20,
      specialTokenIds: tokenizer.specialTokenIds,
      eosTokenIds: options.eosTokenIds ?? [tokenizer.special(SPECIAL_TOKENS.endOfText)],
    };
  }

  /** generate + score: the calls that would run the network. */
  get modelCalls(): number {
    return this.calls.generate + this.calls.score;
  }

  async createSequence(tokens: readonly number[] = []): Promise<ModelSequence> {
    this.calls.createSequence++;
    this.checkOpen();
    return new FakeSequence(this, [...tokens]);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  checkOpen(): void {
    if (this.closed) throw new ModelError('closed', 'the fake backend was closed');
  }
}

export class FakeSequence implements ModelSequence {
  private disposed = false;

  constructor(
    private readonly backend: FakeBackend,
    private readonly held: number[],
  ) {}

  get length(): number {
    return this.held.length;
  }

  tokens(): number[] {
    return [...this.held];
  }

  async append(tokens: readonly number[]): Promise<void> {
    this.backend.calls.append++;
    this.check();
    if (this.held.length + tokens.length > this.backend.info.contextLength) throw new ModelError('context', 'the tokens do not fit the context');
    this.held.push(...tokens);
  }

  async generate(options: GenerateOptions): Promise<GenerateResult> {
    this.backend.calls.generate++;
    this.check();
    const generated: number[] = [];
    const stops = new Set(options.stopTokenIds);
    let plan: readonly number[] = [];
    let next = 0;
    for (;;) {
      // Cancellation between tokens: what was generated so far stays in the sequence, as a real
      // backend may leave it; the caller must clean up.
      if (options.signal?.aborted) throw new ModelError('cancelled', 'cancelled');
      if (this.held.length >= this.backend.info.contextLength) return { tokens: generated, finishReason: 'context' };
      if (generated.length >= options.maxTokens) return { tokens: generated, finishReason: 'length' };
      if (next >= plan.length) {
        plan = this.backend.oracle.next(this.held, options);
        next = 0;
        if (plan.length === 0) throw new Error('the oracle has nothing to write');
      }
      const id = plan[next++];
      this.held.push(id);
      generated.push(id);
      this.backend.calls.generatedTokens++;
      options.onToken?.(id);
      if (stops.has(id)) return { tokens: generated, finishReason: 'stop' };
      await Promise.resolve();
    }
  }

  async truncate(length: number): Promise<void> {
    this.backend.calls.truncate++;
    this.check();
    if (!Number.isInteger(length) || length < 0 || length > this.held.length) throw new ModelError('bad-request', `cannot truncate ${this.held.length} tokens to ${length}`);
    this.held.length = length;
  }

  async fork(): Promise<ModelSequence> {
    this.backend.calls.fork++;
    this.check();
    return new FakeSequence(this.backend, [...this.held]);
  }

  /** The oracle's greedy choice is the top token (log-probability 0); every other token gets WRONG_LOGPROB. */
  async score(continuation: readonly number[], options: ScoreOptions = {}): Promise<TokenScore[]> {
    this.backend.calls.score++;
    this.check();
    if (this.held.length === 0) throw new ModelError('bad-request', 'scoring needs a non-empty sequence');
    if (this.held.length + continuation.length > this.backend.info.contextLength) throw new ModelError('context', 'the continuation does not fit the context');
    const context = [...this.held];
    const scores: TokenScore[] = [];
    // A plan stays valid while the continuation follows it: the oracle is asked once per divergence.
    let plan: readonly number[] = [];
    let planAt = 0;
    let valid = false;
    for (let i = 0; i < continuation.length; i++) {
      if (options.signal?.aborted) throw new ModelError('cancelled', 'cancelled');
      if (!valid || i - planAt >= plan.length) {
        plan = this.backend.oracle.next(context, {});
        planAt = i;
      }
      const top = plan[i - planAt];
      const tokenId = continuation[i];
      scores.push({ tokenId, logprob: tokenId === top ? 0 : WRONG_LOGPROB, topTokenId: top, topLogprob: 0 });
      valid = tokenId === top;
      context.push(tokenId);
    }
    if (options.append) this.held.push(...continuation);
    return scores;
  }

  dispose(): void {
    this.disposed = true;
  }

  private check(): void {
    this.backend.checkOpen();
    if (this.disposed) throw new ModelError('bad-request', 'the sequence was disposed');
  }
}
