/**
 * The bundled ONNX Runtime backend, seen from the thread that uses it: every call is a message to the
 * inference worker (worker.ts), which keeps the session and the KV caches. Nothing here blocks.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { GenerateOptions, GenerateResult, ModelBackend, ModelError, ModelInfo, ModelSequence, ScoreOptions, TokenScore } from '../backend';
import { chooseAllowed, TokenConstraint } from '../constraint';
import { ModelFolder, readModelFolder } from '../model-folder';
import type { CwmTokenizer } from '../tokenizer';
import { chooseToken, seededRandom } from '../sampling';
import { CANCEL_FLAG, EngineStats, ExecutionProviderChoice, WorkerMessage, WorkerRequest, WorkerResultOf } from './protocol';

export interface OnnxEngineOptions {
  /** `auto` (the default) tries CUDA where an NVIDIA driver is present. */
  readonly executionProvider?: ExecutionProviderChoice;
  /** Threads per operator; 0 (default) lets ONNX Runtime choose. */
  readonly threads?: number;
  /** The worker script; found next to this module by default. */
  readonly workerFile?: string;
}

interface Pending {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
  readonly onToken?: (token: number) => void;
  /** The flag a generate or score polls, raised when the engine closes. */
  readonly cancel?: SharedArrayBuffer;
}

/** How long a closing worker may take to release its session before it is terminated. */
const CLOSE_GRACE_MS = 5000;

/** Opens a model folder: checks it, starts the worker and loads the graph. */
export async function openOnnxEngine(modelDir: string, options: OnnxEngineOptions = {}): Promise<OnnxEngine> {
  const folder = readModelFolder(modelDir);
  const engine = new OnnxEngine(folder, options.workerFile ?? defaultWorkerFile());
  try {
    const { config, tokenizer } = folder;
    const loaded = await engine.request({
      op: 'load',
      load: {
        modelFile: config.modelFile,
        executionProvider: options.executionProvider ?? 'auto',
        threads: options.threads ?? 0,
        numLayers: config.numLayers,
        numKvHeads: config.numKvHeads,
        headDim: config.headDim,
        vocabSize: config.vocabSize,
        dtype: config.dtype,
        tokenizerSize: tokenizer.size,
        contextLength: config.contextLength,
      },
    });
    engine.setDevice(loaded.device, loaded.deviceNote);
    return engine;
  } catch (error) {
    await engine.close();
    throw error;
  }
}

export class OnnxEngine implements ModelBackend {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private nextSequence = 1;
  private closed = false;
  private device = 'cpu';
  private deviceNote: string | undefined;
  readonly tokenizer: CwmTokenizer;

  constructor(
    private readonly folder: ModelFolder,
    workerFile: string,
  ) {
    this.tokenizer = folder.tokenizer;
    this.worker = new Worker(workerFile);
    this.worker.on('message', (message: WorkerMessage) => this.receive(message));
    this.worker.on('error', (error) => this.failAll(new ModelError('inference', `the inference worker crashed: ${error.message}`)));
    this.worker.on('exit', (code) => {
      if (!this.closed) this.failAll(new ModelError('inference', `the inference worker stopped unexpectedly (exit code ${code})`));
      this.closed = true;
    });
  }

  get info(): ModelInfo {
    const { config } = this.folder;
    return {
      name: config.name,
      backend: 'onnx',
      device: this.device,
      ...(this.deviceNote ? { deviceNote: this.deviceNote } : {}),
      vocabSize: config.vocabSize,
      contextLength: config.contextLength,
      specialTokenIds: config.specialTokens,
      eosTokenIds: config.eosTokenIds,
      constrainedDecoding: true,
    };
  }

  /** @internal */
  setDevice(device: string, note: string | undefined): void {
    this.device = device;
    this.deviceNote = note;
  }

  async createSequence(tokens: readonly number[] = []): Promise<ModelSequence> {
    const seq = this.newSequenceId();
    await this.request({ op: 'create', seq, tokens: [...tokens] });
    return new OnnxSequence(this, seq, [...tokens]);
  }

  /** @internal */
  newSequenceId(): number {
    return this.nextSequence++;
  }

  /** Work the model has done so far (for benchmarks and tests). */
  stats(): Promise<EngineStats> {
    return this.request({ op: 'stats' });
  }

  /**
   * Ends the worker. Terminating a thread while ONNX Runtime still holds a session can abort the
   * whole process (a native finalizer throws during the thread's teardown), so running work is
   * cancelled, the worker releases its session and ends by itself; terminate is only the fallback.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const pending of this.pending.values()) {
      if (pending.cancel) Atomics.store(new Int32Array(pending.cancel), CANCEL_FLAG, 1);
    }
    this.failAll(new ModelError('closed', 'the model was closed'));
    const ended = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.postMessage({ op: 'close', id: this.nextId++ });
    const fallback = setTimeout(() => void this.worker.terminate(), CLOSE_GRACE_MS);
    await ended;
    clearTimeout(fallback);
  }

  /** @internal */
  request<R extends WorkerRequest>(request: R, onToken?: (token: number) => void): Promise<WorkerResultOf<R['op']>> {
    if (this.closed) return Promise.reject(new ModelError('closed', 'the model was closed'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const cancel = 'cancel' in request ? request.cancel : undefined;
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, onToken, cancel });
      this.worker.postMessage({ ...request, id });
    });
  }

  private receive(message: WorkerMessage): void {
    const pending = this.pending.get(message.id);
    if (!pending) return;
    if (message.kind === 'token') {
      pending.onToken?.(message.token);
      return;
    }
    this.pending.delete(message.id);
    if (message.kind === 'result') pending.resolve(message.result);
    else pending.reject(new ModelError(message.code, message.message));
  }

  private failAll(error: ModelError): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const pending of all) pending.reject(error);
  }
}

class OnnxSequence implements ModelSequence {
  private disposed = false;

  constructor(
    private readonly engine: OnnxEngine,
    private readonly id: number,
    /** Mirror of the worker's tokens, kept in step by every call. */
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
    await this.engine.request({ op: 'append', seq: this.id, tokens: [...tokens] });
    this.held.push(...tokens);
  }

  async generate(options: GenerateOptions): Promise<GenerateResult> {
    this.check();
    if (options.constraint) return this.generateConstrained(options, options.constraint);
    const { cancel, release } = cancelFlag(options.signal);
    try {
      const result = await this.engine.request(
        { op: 'generate', seq: this.id, options: { maxTokens: options.maxTokens, stopTokenIds: [...options.stopTokenIds], temperature: options.temperature, topP: options.topP, seed: options.seed }, cancel },
        (token) => {
          this.held.push(token);
          options.onToken?.(token);
        },
      );
      return { tokens: result.tokens, finishReason: result.finishReason };
    } finally {
      release();
    }
  }

  /**
   * Token by token on this thread, since the constraint lives here: the worker computes each next
   * distribution (logits), the constraint picks among it, and the pick goes with the next request for
   * logits. Each token costs one model run, as in the worker's own loop, plus a message each way.
   */
  private async generateConstrained(options: GenerateOptions, constraint: TokenConstraint): Promise<GenerateResult> {
    const { contextLength } = this.engine.info;
    const limit = this.engine.tokenizer.size;
    const stops = new Set(options.stopTokenIds);
    const random = seededRandom(options.seed ?? (Math.random() * 2 ** 32) >>> 0);
    const generated: number[] = [];
    let constrained = true;
    // The last pick, not yet in the worker's sequence: it is sent with the next request, or at the end.
    let unsent: number[] = [];
    const end = async (finishReason: GenerateResult['finishReason']): Promise<GenerateResult> => {
      if (unsent.length > 0) {
        await this.engine.request({ op: 'append', seq: this.id, tokens: unsent });
        this.held.push(...unsent);
      }
      return { tokens: generated, finishReason };
    };
    while (generated.length < options.maxTokens) {
      if (this.held.length + unsent.length >= contextLength) return end('context');
      if (options.signal?.aborted) {
        await end('length');
        throw new ModelError('cancelled', 'cancelled');
      }
      this.check();
      const logits = await this.engine.request({ op: 'logits', seq: this.id, append: unsent });
      this.held.push(...unsent);
      unsent = [];
      // The frame must end before the budget or the context does, whichever comes first.
      constraint.tokensLeft?.(Math.min(options.maxTokens - generated.length, contextLength - this.held.length));
      let token = constrained ? chooseAllowed(logits, constraint, options, random, limit) : undefined;
      if (token === undefined && constrained && constraint.tokensLeft) {
        // Nothing ends the frame in time from here: keep to the grammar, and let the budget run out.
        constraint.tokensLeft(Infinity);
        token = chooseAllowed(logits, constraint, options, random, limit);
      }
      if (token === undefined) {
        constrained = false;
        token = chooseToken(logits, options, random, limit);
      } else {
        constraint.accept(token);
      }
      unsent = [token];
      generated.push(token);
      options.onToken?.(token);
      if (stops.has(token)) return end('stop');
    }
    return end('length');
  }

  async truncate(length: number): Promise<void> {
    this.check();
    await this.engine.request({ op: 'truncate', seq: this.id, length });
    if (length < this.held.length) this.held.length = length;
  }

  async fork(): Promise<ModelSequence> {
    this.check();
    const into = this.engine.newSequenceId();
    await this.engine.request({ op: 'fork', seq: this.id, into });
    return new OnnxSequence(this.engine, into, [...this.held]);
  }

  async score(continuation: readonly number[], options: ScoreOptions = {}): Promise<TokenScore[]> {
    this.check();
    const { cancel, release } = cancelFlag(options.signal);
    try {
      const scores = await this.engine.request({ op: 'score', seq: this.id, tokens: [...continuation], append: options.append ?? false, cancel });
      if (options.append) this.held.push(...continuation);
      return scores;
    } finally {
      release();
    }
  }

  /** Logits for the next token, as the worker computed them (tests compare them with a reference). */
  logits(): Promise<Float32Array> {
    this.check();
    return this.engine.request({ op: 'logits', seq: this.id });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.engine.request({ op: 'dispose', seq: this.id }).catch(() => undefined);
  }

  private check(): void {
    if (this.disposed) throw new ModelError('bad-request', 'this sequence was disposed');
  }
}

/**
 * A flag the worker polls between model runs: its thread is busy in ONNX Runtime, so a message
 * could not reach it until the whole generation was over.
 */
function cancelFlag(signal: AbortSignal | undefined): { cancel: SharedArrayBuffer; release: () => void } {
  if (signal?.aborted) throw new ModelError('cancelled', 'cancelled');
  const cancel = new SharedArrayBuffer(4);
  const abort = (): void => {
    Atomics.store(new Int32Array(cancel), CANCEL_FLAG, 1);
  };
  signal?.addEventListener('abort', abort, { once: true });
  return { cancel, release: () => signal?.removeEventListener('abort', abort) };
}

/**
 * The esbuild bundles put the worker beside the code that starts it (dist/model-worker.js); the tsc
 * build the tests run keeps the source layout (out/src/model/onnx/worker.js).
 */
function defaultWorkerFile(): string {
  const candidates = [path.join(__dirname, 'model-worker.js'), path.join(__dirname, 'worker.js')];
  const found = candidates.find((file) => fs.existsSync(file));
  if (!found) throw new ModelError('load', `the inference worker script is missing (looked for ${candidates.join(' and ')}); rebuild with npm run build`);
  return found;
}
