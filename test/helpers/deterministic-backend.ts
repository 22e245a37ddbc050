/**
 * A deterministic stand-in for a model, implementing the whole ModelBackend/ModelSequence contract
 * (score included), for testing what sits around a backend (the server, the remote client) without
 * ONNX Runtime. Its "model": after a prefix, one token is the top choice with probability 0.6 and
 * every other token shares the rest; the top choice is a fixed function of the prefix's length and
 * last token, with a <|frame_sep|> every `frameEvery` positions and <|end_of_text|> from `eosAt` on.
 * Counters tell a test how much work it was asked to do. (fake-backend.ts is the predictor's
 * oracle-driven fake; this one has a whole distribution, so scores and sampling mean something.)
 */
import * as path from 'node:path';
import { FinishReason, GenerateOptions, GenerateResult, ModelBackend, ModelError, ModelInfo, ModelSequence, ScoreOptions, TokenScore } from '../../src/model/backend';
import { CwmTokenizer } from '../../src/model/tokenizer';
import { seededRandom } from '../../src/model/sampling';
import { REPO_ROOT } from './env';

export const FIXTURE_TOKENIZER = path.join(REPO_ROOT, 'test', 'fixtures', 'models', 'tiny-cwm', 'tokenizer.json');

export function loadFixtureTokenizer(): CwmTokenizer {
  return CwmTokenizer.fromFile(FIXTURE_TOKENIZER);
}

export interface DeterministicBackendOptions {
  readonly tokenizer?: CwmTokenizer;
  readonly name?: string;
  /** Width of the "logits" (default 512, above the fixture tokenizer's 467 ids, as in the tiny model). */
  readonly vocabSize?: number;
  readonly contextLength?: number;
  /** A <|frame_sep|> is the top choice at every position p with p % frameEvery === frameEvery - 1. */
  readonly frameEvery?: number;
  /** From this many tokens on, <|end_of_text|> is the top choice. */
  readonly eosAt?: number;
  /** Wall-clock wait before each generated token (to test cancellation and queueing). */
  readonly tokenDelayMs?: number;
}

export interface DeterministicStats {
  /** Tokens fed in by append / createSequence / score with append (what a KV cache would compute). */
  appended: number;
  generated: number;
  scored: number;
  forks: number;
  created: number;
  disposed: number;
  /** Generations that ended because their signal fired. */
  cancelled: number;
  /** Most generate/score calls running at the same moment. */
  maxConcurrent: number;
}

const TOP_PROBABILITY = 0.6;
/** Readable text for the regular tokens: letters, a space, a newline and a two-byte character. */
const ALPHABET = 'abcdefghijklmnop \n';
const TWO_BYTE_CHARACTER = 'é';

export class DeterministicBackend implements ModelBackend {
  readonly info: ModelInfo;
  readonly tokenizer: CwmTokenizer;
  readonly stats: DeterministicStats = { appended: 0, generated: 0, scored: 0, forks: 0, created: 0, disposed: 0, cancelled: 0, maxConcurrent: 0 };
  readonly frameEvery: number;
  readonly eosAt: number;
  readonly tokenDelayMs: number;
  /** Single-token ids of the alphabet, and the two byte tokens of é. */
  private readonly letters: number[];
  private readonly accentBytes: [number, number];
  private running = 0;
  private closed = false;

  constructor(options: DeterministicBackendOptions = {}) {
    this.tokenizer = options.tokenizer ?? loadFixtureTokenizer();
    const eot = this.tokenizer.idOf('<|eot_id|>');
    this.info = {
      name: options.name ?? 'fake-cwm',
      backend: 'onnx',
      device: 'cpu',
      vocabSize: options.vocabSize ?? 512,
      contextLength: options.contextLength ?? 256,
      specialTokenIds: this.tokenizer.specialTokenIds,
      eosTokenIds: [this.tokenizer.special('<|end_of_text|>'), ...(eot !== undefined ? [eot] : [])],
    };
    this.frameEvery = options.frameEvery ?? 12;
    this.eosAt = options.eosAt ?? 200;
    this.tokenDelayMs = options.tokenDelayMs ?? 0;
    this.letters = [...ALPHABET].map((ch) => {
      const ids = this.tokenizer.encodeText(ch);
      if (ids.length !== 1) throw new Error(`the test tokenizer spells ${JSON.stringify(ch)} with ${ids.length} tokens`);
      return ids[0];
    });
    const accent = this.tokenizer.encodeText(TWO_BYTE_CHARACTER);
    if (accent.length !== 2) throw new Error(`the test tokenizer spells ${TWO_BYTE_CHARACTER} with ${accent.length} tokens, not its two bytes`);
    this.accentBytes = [accent[0], accent[1]];
  }

  /** Ordinary tokens a test may build prompts from. */
  get regularTokens(): readonly number[] {
    return [...this.letters, ...this.accentBytes];
  }

  /** The model's first choice after `prefix` (not empty). */
  topAfter(prefix: readonly number[]): number {
    const n = prefix.length;
    const last = prefix[n - 1];
    if (n >= this.eosAt) return this.tokenizer.special('<|end_of_text|>');
    // The second byte of é always follows its first, so streamed text must hold the first back.
    if (last === this.accentBytes[0]) return this.accentBytes[1];
    if (n % this.frameEvery === this.frameEvery - 1) return this.tokenizer.special('<|frame_sep|>');
    const pick = (last * 31 + n * 17) % (this.letters.length + 1);
    return pick === this.letters.length ? this.accentBytes[0] : this.letters[pick];
  }

  /** Natural-log probability of `token` after `prefix`. */
  logprobAfter(prefix: readonly number[], token: number): number {
    if (token === this.topAfter(prefix)) return Math.log(TOP_PROBABILITY);
    return Math.log((1 - TOP_PROBABILITY) / (this.info.vocabSize - 1));
  }

  async createSequence(tokens: readonly number[] = []): Promise<ModelSequence> {
    this.checkOpen();
    const sequence = new DeterministicSequence(this, []);
    await sequence.append(tokens);
    this.stats.created++;
    return sequence;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** @internal */
  checkOpen(): void {
    if (this.closed) throw new ModelError('closed', 'the model was closed');
  }

  /** @internal */
  enter(): void {
    this.running++;
    this.stats.maxConcurrent = Math.max(this.stats.maxConcurrent, this.running);
  }

  /** @internal */
  leave(): void {
    this.running--;
  }

  /** @internal */
  checkTokens(tokens: readonly number[], already: number): void {
    const { vocabSize, contextLength } = this.info;
    for (const token of tokens) {
      if (!Number.isInteger(token) || token < 0 || token >= vocabSize) throw new ModelError('bad-request', `token id ${token} is outside the model's vocabulary (0..${vocabSize - 1})`);
    }
    if (already + tokens.length > contextLength) throw new ModelError('context', `${already + tokens.length} tokens do not fit the model's context of ${contextLength}`);
  }
}

class DeterministicSequence implements ModelSequence {
  private disposed = false;

  constructor(
    private readonly backend: DeterministicBackend,
    private held: number[],
  ) {}

  get length(): number {
    return this.held.length;
  }

  tokens(): number[] {
    return [...this.held];
  }

  async append(tokens: readonly number[]): Promise<void> {
    this.check();
    this.backend.checkTokens(tokens, this.held.length);
    this.held.push(...tokens);
    this.backend.stats.appended += tokens.length;
  }

  async generate(options: GenerateOptions): Promise<GenerateResult> {
    this.check();
    if (options.signal?.aborted) throw new ModelError('cancelled', 'cancelled');
    if (this.held.length === 0) throw new ModelError('bad-request', 'an empty sequence has no next-token distribution: append a prompt first');
    const stops = new Set(options.stopTokenIds);
    const random = seededRandom(options.seed ?? 1);
    const generated: number[] = [];
    this.backend.enter();
    try {
      let finishReason: FinishReason = 'length';
      while (generated.length < options.maxTokens) {
        if (this.held.length >= this.backend.info.contextLength) {
          finishReason = 'context';
          break;
        }
        if (this.backend.tokenDelayMs > 0) await delay(this.backend.tokenDelayMs);
        if (options.signal?.aborted) {
          this.backend.stats.cancelled++;
          throw new ModelError('cancelled', 'cancelled');
        }
        const token = this.choose(options, random);
        this.held.push(token);
        generated.push(token);
        this.backend.stats.generated++;
        options.onToken?.(token);
        if (stops.has(token)) {
          finishReason = 'stop';
          break;
        }
      }
      return { tokens: generated, finishReason };
    } finally {
      this.backend.leave();
    }
  }

  async truncate(length: number): Promise<void> {
    this.check();
    if (!Number.isInteger(length) || length < 0) throw new ModelError('bad-request', `cannot truncate to ${length} tokens`);
    if (length < this.held.length) this.held.length = length;
  }

  async fork(): Promise<ModelSequence> {
    this.check();
    this.backend.stats.forks++;
    return new DeterministicSequence(this.backend, [...this.held]);
  }

  async score(continuation: readonly number[], options: ScoreOptions = {}): Promise<TokenScore[]> {
    this.check();
    if (options.signal?.aborted) throw new ModelError('cancelled', 'cancelled');
    if (continuation.length === 0) return [];
    if (this.held.length === 0) throw new ModelError('bad-request', 'score needs a sequence that is not empty');
    this.backend.checkTokens(continuation, this.held.length);
    this.backend.enter();
    try {
      const prefix = [...this.held];
      const scores = continuation.map((tokenId) => {
        const top = this.backend.topAfter(prefix);
        const score = { tokenId, logprob: this.backend.logprobAfter(prefix, tokenId), topTokenId: top, topLogprob: this.backend.logprobAfter(prefix, top) };
        prefix.push(tokenId);
        return score;
      });
      this.backend.stats.scored += continuation.length;
      if (options.append) {
        this.held.push(...continuation);
        this.backend.stats.appended += continuation.length;
      }
      return scores;
    } finally {
      this.backend.leave();
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.backend.stats.disposed++;
  }

  private choose(options: GenerateOptions, random: () => number): number {
    const top = this.backend.topAfter(this.held);
    if (!(options.temperature && options.temperature > 0)) return top;
    if (random() < TOP_PROBABILITY) return top;
    const regular = this.backend.regularTokens;
    return regular[Math.floor(random() * regular.length)];
  }

  private check(): void {
    this.backend.checkOpen();
    if (this.disposed) throw new ModelError('bad-request', 'this sequence was disposed');
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

