/**
 * `neural-debug serve`: any ModelBackend behind a small OpenAI/vLLM-compatible HTTP server, so the
 * remote backend (or any OpenAI client) can use a model running on another machine. Requests run
 * one at a time (the backend computes one thing at a time) on sequences from a prefix cache; a
 * client that hangs up cancels its work. Bad input of any kind gets a 4xx answer, never a crash.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isCancelled, ModelBackend, ModelError } from '../backend';
import { isObject } from '../remote/json-reading';
import { MODEL_DESCRIPTION_PATH, ModelDescription, NEURAL_DEBUG_OWNER } from '../remote/neural-debug-api';
import { ApiError, apiErrorOf, errorBody } from './api-error';
import { AnswerHeader, ChoiceFields, chunkJson, completionId, completionJson, logprobsBlock, promptLogprobsList, usageChunkJson, usageOf } from './completion-format';
import { CompletionJob, ModelLimits, parseCompletionRequest, readPrompt } from './completion-request';
import { CompletionOutcome, runCompletion, RunEnvironment } from './completion-run';
import { readJsonBody, sendError, sendJson } from './http-body';
import { PrefixCache } from './prefix-cache';
import { SerialQueue } from './serial-queue';
import { TextRenderer } from './text-render';
import { specialTokenIdsOf, tokenizerJsonOf } from './tokenizer-json';

export interface ServeOptions {
  readonly backend: ModelBackend;
  /** Default 127.0.0.1: only this machine. Binding elsewhere exposes the model; set apiKey then. */
  readonly host?: string;
  /** Default 0: any free port (see RunningServer.port). */
  readonly port?: number;
  /** When set, every route but /health needs `Authorization: Bearer <apiKey>`. */
  readonly apiKey?: string;
  /** One line per request (method, path, status, time); never bodies or credentials. */
  readonly log?: (line: string) => void;
  /** Largest request body accepted (default 16 MiB: a full 131k-token prompt is about 1 MiB). */
  readonly maxBodyBytes?: number;
  /** Sequences kept for prefix caching (default 4; each holds a KV cache). */
  readonly cacheSize?: number;
  /** How often a streamed answer sends an SSE comment while the model is busy (default 15 s). */
  readonly heartbeatMs?: number;
}

export interface RunningServer {
  /** Base URL, e.g. http://127.0.0.1:8000 (what the remote backend's endpoint option takes). */
  readonly url: string;
  readonly port: number;
  /** Stops listening, cancels every request, closes every connection. The backend stays open. */
  close(): Promise<void>;
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const server = new ModelServer(options);
  return server.listen(options.host ?? '127.0.0.1', options.port ?? 0);
}

const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;
/** How long close() lets cancelled requests finish their answers before cutting connections. */
const CLOSE_GRACE_MS = 2000;

/** Waits for the promises to settle, or for `ms`, whichever comes first (no timer is left behind). */
async function settledWithin(promises: readonly Promise<unknown>[], ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  try {
    await Promise.race([Promise.allSettled(promises), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

class ModelServer {
  private readonly backend: ModelBackend;
  private readonly http: http.Server;
  private readonly queue = new SerialQueue();
  private readonly cache: PrefixCache;
  private readonly env: RunEnvironment;
  private readonly limits: ModelLimits;
  private readonly modelId: string;
  private readonly keyDigest: Buffer | undefined;
  private readonly maxBodyBytes: number;
  private readonly heartbeatMs: number;
  private readonly log: (line: string) => void;
  /** One controller per request being answered: close() cancels them. */
  private readonly active = new Set<AbortController>();
  private readonly tasks = new Set<Promise<void>>();
  private descriptionText: string | undefined;
  private closing = false;

  constructor(options: ServeOptions) {
    this.backend = options.backend;
    const { info, tokenizer } = this.backend;
    this.modelId = info.name;
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.heartbeatMs = options.heartbeatMs ?? 15_000;
    this.log = options.log ?? (() => undefined);
    this.keyDigest = options.apiKey ? digest(options.apiKey) : undefined;
    this.cache = new PrefixCache(this.backend, options.cacheSize ?? 4);
    this.env = { backend: this.backend, cache: this.cache, specialIds: specialTokenIdsOf(tokenizerJsonOf(tokenizer)) };
    this.limits = { modelId: this.modelId, tokenizer, tokenLimit: Math.min(info.vocabSize, tokenizer.size), contextLength: info.contextLength };
    this.http = http.createServer((req, res) => this.track(this.handle(req, res)));
    // A request Node cannot even parse gets a plain 400 and the connection closes.
    this.http.on('clientError', (_error, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      else socket.destroy();
    });
  }

  listen(host: string, port: number): Promise<RunningServer> {
    return new Promise((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(port, host, () => {
        this.http.off('error', reject);
        const address = this.http.address() as AddressInfo;
        const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
        resolve({ url: `http://${shownHost}:${address.port}`, port: address.port, close: () => this.close() });
      });
    });
  }

  private async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const closed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    const reason = new ModelError('closed', 'the server is shutting down');
    this.queue.rejectWaiting(reason);
    for (const controller of this.active) controller.abort(reason);
    // Cancelled work ends within a token or so and tells its client why; a client still sending
    // its body would be waited for forever, so the connections close after a short grace.
    await settledWithin([...this.tasks], CLOSE_GRACE_MS);
    this.http.closeAllConnections();
    await Promise.allSettled([...this.tasks]);
    await closed;
    this.cache.clear();
  }

  private track(task: Promise<void>): void {
    const tracked: Promise<void> = task
      .catch((error: unknown) => this.log(`internal error: ${(error as Error)?.message ?? String(error)}`))
      .finally(() => this.tasks.delete(tracked));
    this.tasks.add(tracked);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const started = Date.now();
    const controller = new AbortController();
    this.active.add(controller);
    const path = pathOf(req.url);
    // A write racing a client's hang-up must not become an unhandled 'error' event.
    res.on('error', () => undefined);
    res.on('close', () => {
      this.active.delete(controller);
      // The client hung up before the answer was complete: stop working for it.
      if (!res.writableFinished) controller.abort(new ModelError('cancelled', 'the client disconnected'));
      this.log(`${req.method} ${path} ${res.writableFinished ? res.statusCode : 'disconnected'} ${Date.now() - started} ms`);
    });
    try {
      if (this.closing) throw new ApiError(503, 'the server is shutting down');
      await this.route(req, res, path, controller.signal);
    } catch (error) {
      if (controller.signal.aborted && isCancelled(controller.signal.reason)) {
        res.destroy();
        return;
      }
      const apiError = apiErrorOf(causeOf(error, controller.signal));
      if (apiError.status >= 500) this.log(`${req.method} ${path} failed: ${apiError.message}`);
      // After a 413 the rest of the body is not read: close the connection rather than drain it.
      sendError(res, apiError, apiError.status === 413 ? { connection: 'close' } : {});
    }
  }

  private async route(req: http.IncomingMessage, res: http.ServerResponse, path: string, signal: AbortSignal): Promise<void> {
    const method = req.method ?? 'GET';
    if (path === '/health') {
      expectMethod(method, 'GET');
      res.writeHead(200, { 'content-length': '0' }).end();
      return;
    }
    if (this.keyDigest && !this.authorized(req)) {
      sendError(res, new ApiError(401, 'Unauthorized: send the API key as "Authorization: Bearer <key>"'), { 'www-authenticate': 'Bearer' });
      return;
    }
    switch (path) {
      case '/v1/models':
        expectMethod(method, 'GET');
        sendJson(res, 200, this.modelList());
        return;
      case MODEL_DESCRIPTION_PATH:
        expectMethod(method, 'GET');
        sendJson(res, 200, this.description());
        return;
      case '/v1/completions':
        expectMethod(method, 'POST');
        return this.completions(req, res, signal);
      case '/tokenize':
        expectMethod(method, 'POST');
        sendJson(res, 200, this.tokenize(await readJsonBody(req, this.maxBodyBytes)));
        return;
      case '/detokenize':
        expectMethod(method, 'POST');
        sendJson(res, 200, this.detokenize(await readJsonBody(req, this.maxBodyBytes)));
        return;
      default:
        throw new ApiError(404, `no route ${path}: this server offers /v1/models, /v1/completions, /tokenize, /detokenize, /health and ${MODEL_DESCRIPTION_PATH}`);
    }
  }

  private authorized(req: http.IncomingMessage): boolean {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header.trim());
    // Compare digests, so the comparison takes the same time whatever the key's length.
    return !!match && !!this.keyDigest && timingSafeEqual(digest(match[1]), this.keyDigest);
  }

  private modelList(): unknown {
    const { info } = this.backend;
    const created = Math.floor(Date.now() / 1000);
    return {
      object: 'list',
      data: [{ id: this.modelId, object: 'model', created, owned_by: NEURAL_DEBUG_OWNER, root: this.modelId, parent: null, max_model_len: info.contextLength, permission: [] }],
    };
  }

  /** The model with its tokenizer (several MB for CWM): serialised once. */
  private description(): string {
    if (this.descriptionText === undefined) {
      const { info, tokenizer } = this.backend;
      const description: ModelDescription = {
        name: info.name,
        vocabSize: info.vocabSize,
        contextLength: info.contextLength,
        specialTokens: info.specialTokenIds,
        eosTokenIds: info.eosTokenIds,
        tokenizer: tokenizerJsonOf(tokenizer),
      };
      this.descriptionText = JSON.stringify(description);
    }
    return this.descriptionText;
  }

  private tokenize(body: unknown): unknown {
    if (!isObject(body)) throw new ApiError(400, 'the request body must be a JSON object');
    if (body.messages !== undefined) throw new ApiError(400, 'chat messages are not supported: CWM takes a raw prompt', 'messages');
    if (typeof body.prompt !== 'string') throw new ApiError(400, '`prompt` must be a string', 'prompt');
    const { tokenizer, info } = this.backend;
    const tokens = body.prompt === '' ? [] : tokenizer.encodeText(body.prompt);
    if (body.add_special_tokens === true) tokens.unshift(info.specialTokenIds['<|begin_of_text|>']);
    const answer: Record<string, unknown> = { count: tokens.length, max_model_len: info.contextLength, tokens };
    if (body.return_token_strs === true) answer.token_strs = tokens.map((id) => tokenizer.decode([id]));
    return answer;
  }

  private detokenize(body: unknown): unknown {
    if (!isObject(body)) throw new ApiError(400, 'the request body must be a JSON object');
    const tokens = Array.isArray(body.tokens) && body.tokens.length === 0 ? [] : readPrompt(body.tokens, this.limits, 'tokens');
    return { prompt: this.backend.tokenizer.decode(tokens) };
  }

  private async completions(req: http.IncomingMessage, res: http.ServerResponse, signal: AbortSignal): Promise<void> {
    const job = parseCompletionRequest(await readJsonBody(req, this.maxBodyBytes), this.limits);
    const header: AnswerHeader = { id: completionId(), created: Math.floor(Date.now() / 1000), model: this.modelId };
    if (job.stream) return this.streamCompletion(job, header, res, signal);
    const outcome = await this.queue.run(() => runCompletion(job, this.env, signal), signal);
    const echoed = job.echo ? this.renderer(job).render(job.prompt) : '';
    const choice: ChoiceFields = {
      text: echoed + outcome.text,
      logprobs: job.logprobs === undefined ? null : this.logprobs(job, outcome, job.echo, 0),
      finishReason: outcome.finishReason,
      stopReason: outcome.stopReason,
      ...(job.returnTokenIds ? { tokenIds: outcome.generated, promptTokenIds: job.prompt } : {}),
      ...this.promptLogprobsField(job, outcome),
    };
    sendJson(res, 200, completionJson(header, choice, usageOf(job.prompt.length, outcome.generated.length)));
  }

  private async streamCompletion(job: CompletionJob, header: AnswerHeader, res: http.ServerResponse, signal: AbortSignal): Promise<void> {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const open = (): boolean => !res.writableEnded && !res.destroyed;
    const send = (value: unknown): void => {
      if (open()) res.write(`data: ${JSON.stringify(value)}\n\n`);
    };
    // Comments keep a client's idle timeout quiet while the request waits for its turn or the model thinks.
    const heartbeat = setInterval(() => {
      if (open()) res.write(': busy\n\n');
    }, this.heartbeatMs);
    let offset = 0;
    let echoSent = false;
    const sendEcho = (outcome?: CompletionOutcome): void => {
      if (echoSent || !job.echo) return;
      echoSent = true;
      const text = this.renderer(job).render(job.prompt);
      const logprobs = job.logprobs !== undefined && outcome?.promptScores ? logprobsBlock(job.prompt, outcome.promptScores, job.logprobs, this.labeller(job), 0) : null;
      send(chunkJson(header, { text, logprobs, finishReason: null, stopReason: null, ...(job.returnTokenIds ? { tokenIds: [], promptTokenIds: job.prompt } : {}) }));
      offset += text.length;
    };
    // With logprobs the tokens wait for their scores (one pass after generation); otherwise each goes out as it comes.
    const buffered = job.logprobs !== undefined;
    const pieces: { id: number; text: string }[] = [];
    const onToken = (id: number, text: string): void => {
      if (buffered) {
        pieces.push({ id, text });
        return;
      }
      sendEcho();
      send(chunkJson(header, { text, finishReason: null, stopReason: null, ...(job.returnTokenIds ? { tokenIds: [id] } : {}) }));
    };
    try {
      const outcome = await this.queue.run(() => runCompletion(job, this.env, signal, onToken), signal);
      sendEcho(outcome);
      if (buffered) {
        pieces.forEach((piece, i) => {
          const score = outcome.generatedScores?.[i] ?? null;
          const logprobs = logprobsBlock([piece.id], [score], job.logprobs ?? 0, this.labeller(job), offset);
          offset += piece.text.length;
          send(chunkJson(header, { text: piece.text, logprobs, finishReason: null, stopReason: null, ...(job.returnTokenIds ? { tokenIds: [piece.id] } : {}) }));
        });
      }
      send(chunkJson(header, { text: outcome.tail, finishReason: outcome.finishReason, stopReason: outcome.stopReason, ...(job.returnTokenIds ? { tokenIds: [] } : {}) }));
      if (job.includeUsage) send(usageChunkJson(header, usageOf(job.prompt.length, outcome.generated.length)));
    } catch (error) {
      if (signal.aborted && isCancelled(signal.reason)) {
        res.destroy();
        return;
      }
      const apiError = apiErrorOf(causeOf(error, signal));
      if (apiError.status >= 500) this.log(`POST /v1/completions failed while streaming: ${apiError.message}`);
      send(errorBody(apiError.status, apiError.message, apiError.param));
    } finally {
      clearInterval(heartbeat);
    }
    if (open()) res.end('data: [DONE]\n\n');
  }

  private logprobs(job: CompletionJob, outcome: CompletionOutcome, withPrompt: boolean, offset: number): ChoiceFields['logprobs'] {
    const width = job.logprobs ?? 0;
    const ids = withPrompt ? [...job.prompt, ...outcome.generated] : [...outcome.generated];
    const scores = [...(withPrompt ? (outcome.promptScores ?? job.prompt.map(() => null)) : []), ...(outcome.generatedScores ?? [])];
    return logprobsBlock(ids, scores, width, this.labeller(job), offset);
  }

  private promptLogprobsField(job: CompletionJob, outcome: CompletionOutcome): Pick<ChoiceFields, 'promptLogprobs'> {
    if (job.promptLogprobs === undefined || !outcome.promptScores) return {};
    const tokenizer = this.backend.tokenizer;
    return { promptLogprobs: promptLogprobsList(job.prompt, outcome.promptScores, job.promptLogprobs, (id) => tokenizer.decode([id])) };
  }

  private labeller(job: CompletionJob): (id: number) => string {
    if (job.tokensAsIds) return (id) => `token_id:${id}`;
    const tokenizer = this.backend.tokenizer;
    return (id) => tokenizer.decode([id]);
  }

  private renderer(job: CompletionJob): TextRenderer {
    return new TextRenderer(this.backend.tokenizer, job, this.env.specialIds);
  }
}

/** Why work stopped: the backend only knows its signal fired; the signal's reason says why (e.g. shutdown). */
function causeOf(error: unknown, signal: AbortSignal): unknown {
  return signal.aborted && signal.reason instanceof ModelError ? signal.reason : error;
}

function expectMethod(method: string, allowed: string): void {
  if (method !== allowed) throw new ApiError(405, `${method} is not allowed here; use ${allowed}`);
}

function pathOf(url: string | undefined): string {
  const path = (url ?? '/').split('?')[0];
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}
