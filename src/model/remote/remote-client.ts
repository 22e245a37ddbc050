/**
 * The HTTP side of the remote backend: one keep-alive agent per endpoint, JSON calls with retries,
 * event streams, cancellation and close. It knows the wire (statuses, SSE, JSON) but nothing of
 * sequences.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import * as tls from 'node:tls';
import { ModelError, ModelErrorCode } from '../backend';
import { apiUrl, Endpoint, redact } from './endpoint';
import { exchange, ExchangeReply, ExchangeTimeouts, RetryableError } from './http-exchange';
import { errorMessageOf, tryParseJson } from './json-reading';
import { backoffDelay, parseRetryAfter, RETRYABLE_STATUSES, RetryPolicy, sleep } from './retry';
import { SSE_DONE, SseError, SseParser } from './sse';

export interface RemoteClientOptions {
  readonly apiKey?: string;
  readonly timeouts: ExchangeTimeouts;
  readonly retry: RetryPolicy;
  /** Extra trusted certificates (PEM), on top of Node's own roots. */
  readonly ca?: string | Buffer | ReadonlyArray<string | Buffer>;
  /** Longest non-streamed answer (prompt log-probabilities of a long prompt are large). */
  readonly maxBodyChars: number;
}

/** An HTTP status that retrying will not change (401, 404, …), with the status for callers that care. */
export class HttpStatusError extends ModelError {
  constructor(
    code: ModelErrorCode,
    message: string,
    readonly status: number,
  ) {
    super(code, message);
  }
}

/** How a streamed attempt ended: with the server's `[DONE]`, or with the connection simply closing. */
export interface StreamEnd {
  readonly done: boolean;
}

export class RemoteClient {
  private readonly agent: http.Agent;
  private readonly headers: Record<string, string>;
  /** Controllers of every call in flight, so close() can stop them all. */
  private readonly inFlight = new Set<AbortController>();
  private closed = false;

  constructor(
    readonly endpoint: Endpoint,
    private readonly options: RemoteClientOptions,
  ) {
    const { apiKey, ca } = options;
    if (apiKey !== undefined && !/^[\x21-\x7e]+$/.test(apiKey)) {
      throw new ModelError('bad-request', 'the API key holds spaces, line breaks or other characters no HTTP header can carry: check what was pasted');
    }
    const agentOptions: https.AgentOptions = { keepAlive: true, maxSockets: 16 };
    if (endpoint.base.protocol === 'https:') {
      // `ca` replaces Node's trusted roots; add to them instead, so a public certificate still works.
      if (ca !== undefined) agentOptions.ca = [...tls.rootCertificates, ...(Array.isArray(ca) ? ca : [ca])];
      this.agent = new https.Agent(agentOptions);
    } else {
      this.agent = new http.Agent(agentOptions);
    }
    this.headers = { 'user-agent': 'neural-debugger', accept: 'application/json' };
    if (apiKey) this.headers.authorization = `Bearer ${apiKey}`;
    else if (endpoint.basicAuth) this.headers.authorization = `Basic ${Buffer.from(endpoint.basicAuth).toString('base64')}`;
  }

  get where(): string {
    return this.endpoint.display;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** A JSON call, retried on overload and reset connections; resolves with the parsed answer. */
  async json(method: 'GET' | 'POST', path: string, body: unknown, signal: AbortSignal | undefined): Promise<unknown> {
    return this.withRetries(signal, async (callSignal) => {
      const reply = await this.send(method, path, body, callSignal);
      if (reply.status < 200 || reply.status >= 300) throw this.statusError(reply, method, path);
      const parsed = tryParseJson(reply.body);
      if (parsed === undefined) throw new ModelError('protocol', `${this.where}${path} answered with something that is not JSON: ${this.clean(preview(reply.body))}`);
      return parsed;
    });
  }

  /**
   * One streamed POST (no retry: the caller decides how to resume). Each event's JSON goes to
   * `onEvent` in order; a non-JSON event is a protocol error.
   */
  async stream(path: string, body: unknown, signal: AbortSignal, onEvent: (value: unknown) => void): Promise<StreamEnd> {
    const parser = new SseParser();
    let done = false;
    // Progress is an event (a token, the end); a chunk of keep-alive comments is not.
    const onText = (text: string): boolean => {
      let events: string[];
      try {
        events = parser.push(text);
      } catch (error) {
        throw new ModelError('protocol', `${this.where}${path} sent a broken event stream: ${(error as SseError).message}`);
      }
      for (const data of events) {
        if (done) continue;
        if (data.trim() === SSE_DONE) {
          done = true;
          continue;
        }
        const value = tryParseJson(data);
        if (value === undefined) throw new ModelError('protocol', `${this.where}${path} sent an event that is not JSON: ${this.clean(preview(data))}`);
        onEvent(value);
      }
      return events.length > 0;
    };
    const onHeaders = (headers: http.IncomingHttpHeaders): void => {
      const type = headers['content-type'] ?? '';
      if (!type.includes('text/event-stream')) {
        throw new ModelError('protocol', `${this.where}${path} answered a streaming request with "${type || 'no content type'}" instead of an event stream`);
      }
    };
    const reply = await this.send('POST', path, body, signal, { onText, onHeaders });
    if (reply.status < 200 || reply.status >= 300) throw this.statusError(reply, 'POST', path);
    parser.end();
    return { done };
  }

  /**
   * Runs `attempt` until it succeeds, fails for good or runs out of retries. Only RetryableErrors
   * are retried; the wait is the server's Retry-After when it gave one, else backoff with jitter.
   */
  async withRetries<T>(signal: AbortSignal | undefined, attempt: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const { retry } = this.options;
    for (let tries = 0; ; tries++) {
      const call = this.track(signal);
      try {
        return await attempt(call.signal);
      } catch (error) {
        if (!(error instanceof RetryableError)) throw error;
        if (tries >= retry.retries) {
          throw new ModelError(error.code, `${error.message} (gave up after ${tries + 1} attempts)`);
        }
        if (error.retryAfterMs !== undefined && error.retryAfterMs > retry.maxRetryAfterMs) {
          throw new ModelError(error.code, `${error.message}; it asks to wait ${Math.ceil(error.retryAfterMs / 1000)} s before trying again, which is longer than this client waits: try later`);
        }
        const wait = error.retryAfterMs ?? backoffDelay(retry, tries);
        await sleep(wait, call.signal, () => abortReason(call.signal));
      } finally {
        call.release();
      }
    }
  }

  /** Stops every call in flight with ModelError('closed') and closes every socket. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const reason = new ModelError('closed', `the connection to ${this.where} was closed`);
    for (const controller of [...this.inFlight]) controller.abort(reason);
    this.inFlight.clear();
    this.agent.destroy();
  }

  /** Removes the API key from text that came from elsewhere (a server's message). */
  clean(text: string): string {
    return redact(text, [this.options.apiKey, this.endpoint.basicAuth]);
  }

  private send(
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    signal: AbortSignal,
    streaming?: { onText: (text: string) => boolean; onHeaders: (headers: http.IncomingHttpHeaders) => void },
  ): Promise<ExchangeReply> {
    const headers: Record<string, string> = { ...this.headers };
    if (streaming) headers.accept = 'text/event-stream';
    if (body !== undefined) headers['content-type'] = 'application/json';
    return exchange({
      method,
      url: apiUrl(this.endpoint, path),
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      agent: this.agent,
      timeouts: this.options.timeouts,
      signal,
      maxBodyChars: this.options.maxBodyChars,
      where: `${this.where}${path}`,
      ...(streaming ?? {}),
    });
  }

  /** A signal that fires when the caller cancels or the client closes, registered until released. */
  private track(signal: AbortSignal | undefined): { signal: AbortSignal; release: () => void } {
    const controller = new AbortController();
    if (this.closed) controller.abort(new ModelError('closed', `the connection to ${this.where} was closed`));
    const onCancel = (): void => controller.abort(new ModelError('cancelled', 'cancelled'));
    if (signal?.aborted) onCancel();
    else signal?.addEventListener('abort', onCancel, { once: true });
    this.inFlight.add(controller);
    return {
      signal: controller.signal,
      release: () => {
        signal?.removeEventListener('abort', onCancel);
        this.inFlight.delete(controller);
      },
    };
  }

  private statusError(reply: ExchangeReply, method: string, path: string): ModelError {
    const where = `${this.where}${path}`;
    const serverMessage = errorMessageOf(tryParseJson(reply.body)) ?? (reply.body.trim() === '' ? undefined : preview(reply.body));
    const said = serverMessage === undefined ? '' : `: ${this.clean(serverMessage)}`;
    const status = reply.status;
    if (status === 401 || status === 403) {
      const advice = this.options.apiKey ? 'check the API key' : 'this server needs an API key';
      return new HttpStatusError('auth', `${where} refused the request (${status})${said}; ${advice}`, status);
    }
    if (status === 400 || status === 422) return new HttpStatusError('bad-request', `${where} rejected the request (${status})${said}`, status);
    if (status === 413) return new HttpStatusError('bad-request', `${where} says the request is too large (413)${said}`, status);
    if (status === 404) return new HttpStatusError('http', `${method} ${where} was not found (404)${said}; is the endpoint a vLLM-compatible server, and the model name right?`, status);
    if (RETRYABLE_STATUSES.has(status)) {
      const busy = status === 429 ? 'is busy' : 'failed';
      return new RetryableError('http', `${where} ${busy} (${status})${said}`, parseRetryAfter(reply.headers['retry-after']));
    }
    return new HttpStatusError('http', `${where} answered ${status}${said}`, status);
  }
}

function abortReason(signal: AbortSignal): ModelError {
  const reason: unknown = signal.reason;
  return reason instanceof ModelError ? reason : new ModelError('cancelled', 'cancelled');
}

/** The start of a long text, on one line, for a message. */
function preview(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}
