/**
 * The inference worker: owns the ONNX Runtime session and every sequence's KV cache, so the thread
 * that asks (the extension host, the CLI, the server) never blocks. Requests run strictly in the
 * order they arrive.
 *
 * A sequence is its tokens plus the cache of the first `computed` of them. Appending only records
 * tokens; the model reads them when a result needs them (generate, score, logits), so forced tokens
 * and the next step share one run. Caches are never mutated, so a fork shares its parent's cache and
 * costs nothing, and truncating copies only what it keeps.
 */
import { parentPort } from 'node:worker_threads';
import { ModelError } from '../backend';
import { argmax, chooseToken, logSumExp, seededRandom } from '../sampling';
import { DecoderSession, KvCache, truncateCache } from './decoder-session';
import { CANCEL_FLAG, EngineStats, Envelope, LoadRequest, WireGenerateOptions, WireTokenScore, WorkerMessage, WorkerRequest } from './protocol';

interface Sequence {
  tokens: number[];
  cache: KvCache;
  /** Logits after the cache's last token; only valid while cache.length === tokens.length. */
  lastLogits: Float32Array | undefined;
}

/**
 * Bounds on one run: its logits (in floats: a prefill on a 128k vocabulary returns a row per token)
 * and its tokens (attention scores grow with new tokens times all tokens).
 */
const MAX_LOGITS_PER_RUN = 1 << 25;
const MAX_TOKENS_PER_RUN = 512;

class Worker {
  private session: DecoderSession | undefined;
  private load: LoadRequest | undefined;
  private readonly sequences = new Map<number, Sequence>();
  private tokensComputed = 0;
  private runs = 0;

  async handle(request: WorkerRequest, emitToken: (token: number) => void): Promise<unknown> {
    if (request.op === 'load') {
      if (this.session) throw new ModelError('bad-request', 'the worker has a model already');
      const { session, result } = await DecoderSession.open(request.load);
      this.session = session;
      this.load = request.load;
      return result;
    }
    if (request.op === 'stats') return this.stats();
    if (request.op === 'close') {
      this.sequences.clear();
      const session = this.session;
      this.session = undefined;
      await session?.release();
      return null;
    }
    const session = this.session;
    if (!session) throw new ModelError('bad-request', 'no model is loaded');
    switch (request.op) {
      case 'create':
        this.checkTokens(request.tokens, 0);
        this.sequences.set(request.seq, { tokens: [...request.tokens], cache: session.emptyCache(), lastLogits: undefined });
        return null;
      case 'append': {
        const seq = this.sequence(request.seq);
        this.checkTokens(request.tokens, seq.tokens.length);
        seq.tokens.push(...request.tokens);
        return null;
      }
      case 'truncate':
        this.truncate(this.sequence(request.seq), request.length);
        return null;
      case 'fork': {
        const seq = this.sequence(request.seq);
        this.sequences.set(request.into, { tokens: [...seq.tokens], cache: seq.cache, lastLogits: seq.lastLogits });
        return null;
      }
      case 'dispose':
        this.sequences.delete(request.seq);
        return null;
      case 'logits': {
        const seq = this.sequence(request.seq);
        if (request.append) {
          this.checkTokens(request.append, seq.tokens.length);
          seq.tokens.push(...request.append);
        }
        return (await this.catchUp(seq, new Int32Array(1))).slice();
      }
      case 'generate':
        return this.generate(this.sequence(request.seq), request.options, new Int32Array(request.cancel), emitToken);
      case 'score':
        return this.score(request.seq, request.tokens, request.append, new Int32Array(request.cancel));
    }
  }

  private get config(): LoadRequest {
    if (!this.load) throw new ModelError('bad-request', 'no model is loaded');
    return this.load;
  }

  private sequence(id: number): Sequence {
    const seq = this.sequences.get(id);
    if (!seq) throw new ModelError('bad-request', `sequence ${id} does not exist (disposed?)`);
    return seq;
  }

  private checkTokens(tokens: readonly number[], already: number): void {
    const { vocabSize, contextLength } = this.config;
    for (const token of tokens) {
      if (!Number.isInteger(token) || token < 0 || token >= vocabSize) throw new ModelError('bad-request', `token id ${token} is outside the model's vocabulary (0..${vocabSize - 1})`);
    }
    if (already + tokens.length > contextLength) {
      throw new ModelError('context', `${already + tokens.length} tokens do not fit the model's context of ${contextLength}`);
    }
  }

  private truncate(seq: Sequence, length: number): void {
    if (!Number.isInteger(length) || length < 0) throw new ModelError('bad-request', `cannot truncate to ${length} tokens`);
    if (length >= seq.tokens.length) return;
    seq.tokens.length = length;
    // Keep the cache one short of the end so the last token's logits can be recomputed cheaply.
    const keep = Math.max(0, length - 1);
    if (seq.cache.length > keep) {
      seq.cache = truncateCache(seq.cache, keep, this.config.numKvHeads, this.config.headDim);
      seq.lastLogits = undefined;
    }
  }

  /** Runs every token not yet in the cache; returns the logits after the last one. */
  private async catchUp(seq: Sequence, cancel: Int32Array): Promise<Float32Array> {
    if (seq.tokens.length === 0) throw new ModelError('bad-request', 'an empty sequence has no next-token distribution: append a prompt first');
    if (seq.cache.length === seq.tokens.length && seq.lastLogits) return seq.lastLogits;
    if (seq.cache.length === seq.tokens.length) seq.cache = truncateCache(seq.cache, seq.tokens.length - 1, this.config.numKvHeads, this.config.headDim);
    const chunk = this.chunkSize();
    while (seq.cache.length < seq.tokens.length) {
      if (Atomics.load(cancel, CANCEL_FLAG) !== 0) throw cancelled();
      const pending = seq.tokens.slice(seq.cache.length, seq.cache.length + chunk);
      const output = await this.run(pending, seq.cache);
      seq.cache = output.cache;
      seq.lastLogits = output.logits.slice(output.logits.length - this.config.vocabSize);
    }
    return seq.lastLogits as Float32Array;
  }

  private async run(tokens: readonly number[], cache: KvCache): Promise<{ logits: Float32Array; cache: KvCache }> {
    const output = await (this.session as DecoderSession).run(tokens, cache);
    this.tokensComputed += tokens.length;
    this.runs++;
    return output;
  }

  private async generate(seq: Sequence, options: WireGenerateOptions, cancel: Int32Array, emitToken: (token: number) => void): Promise<unknown> {
    const { contextLength, tokenizerSize } = this.config;
    const stops = new Set(options.stopTokenIds);
    const random = seededRandom(options.seed ?? (Math.random() * 2 ** 32) >>> 0);
    const generated: number[] = [];
    while (generated.length < options.maxTokens) {
      if (seq.tokens.length >= contextLength) return { tokens: generated, finishReason: 'context' };
      const logits = await this.catchUp(seq, cancel);
      if (Atomics.load(cancel, CANCEL_FLAG) !== 0) throw cancelled();
      const token = chooseToken(logits, options, random, tokenizerSize);
      seq.tokens.push(token);
      generated.push(token);
      emitToken(token);
      if (stops.has(token)) return { tokens: generated, finishReason: 'stop' };
    }
    return { tokens: generated, finishReason: 'length' };
  }

  /**
   * One pass over the continuation. Its first token is judged by the logits after the sequence, the
   * rest by the rows of a single run; on the way out the sequence is restored or keeps the tokens.
   */
  private async score(id: number, continuation: readonly number[], append: boolean, cancel: Int32Array): Promise<WireTokenScore[]> {
    const seq = this.sequence(id);
    if (continuation.length === 0) return [];
    this.checkTokens(continuation, seq.tokens.length);
    const { vocabSize } = this.config;
    const before = await this.catchUp(seq, cancel);
    const scores: WireTokenScore[] = [scoreRow(before, continuation[0], vocabSize)];
    const chunk = this.chunkSize();
    let cache = seq.cache;
    let lastLogits = before;
    for (let start = 0; start < continuation.length; start += chunk) {
      if (Atomics.load(cancel, CANCEL_FLAG) !== 0) throw cancelled();
      const piece = continuation.slice(start, start + chunk);
      const output = await this.run(piece, cache);
      cache = output.cache;
      for (let i = 0; i < piece.length; i++) {
        const row = output.logits.subarray(i * vocabSize, (i + 1) * vocabSize);
        const next = start + i + 1;
        if (next < continuation.length) scores.push(scoreRow(row, continuation[next], vocabSize));
        else lastLogits = row.slice();
      }
    }
    if (append) {
      seq.tokens.push(...continuation);
      seq.cache = cache;
      seq.lastLogits = lastLogits;
    }
    return scores;
  }

  private chunkSize(): number {
    return Math.max(1, Math.min(MAX_TOKENS_PER_RUN, Math.floor(MAX_LOGITS_PER_RUN / this.config.vocabSize)));
  }

  private stats(): EngineStats {
    return { tokensComputed: this.tokensComputed, runs: this.runs, sequences: this.sequences.size };
  }
}

function scoreRow(row: Float32Array, token: number, vocabSize: number): WireTokenScore {
  const norm = logSumExp(row, vocabSize);
  const top = argmax(row, vocabSize);
  return { tokenId: token, logprob: row[token] - norm, topTokenId: top, topLogprob: row[top] - norm };
}

function cancelled(): ModelError {
  return new ModelError('cancelled', 'cancelled');
}

function start(): void {
  const port = parentPort;
  if (!port) throw new Error('the inference worker must run in a worker thread');
  const worker = new Worker();
  let queue: Promise<void> = Promise.resolve();
  port.on('message', (envelope: Envelope) => {
    queue = queue.then(async () => {
      const send = (message: WorkerMessage): void => port.postMessage(message);
      try {
        const result = await worker.handle(envelope, (token) => send({ id: envelope.id, kind: 'token', token }));
        send({ id: envelope.id, kind: 'result', result });
        // With the session released and the port closed the thread's loop is empty, so it ends.
        if (envelope.op === 'close') port.close();
      } catch (error) {
        const known = error instanceof ModelError;
        send({ id: envelope.id, kind: 'error', code: known ? error.code : 'inference', message: known ? error.message : `inference worker: ${(error as Error).stack ?? String(error)}` });
      }
    });
  });
}

start();
