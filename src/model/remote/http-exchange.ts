/**
 * One HTTP request and its answer over node:http(s), with the three waits a remote model needs
 * bounded separately: reaching the server (connect), the server starting to answer (first byte; a
 * long prompt may take a while), and silence in the middle of a streamed answer (idle). Every way it
 * can fail becomes a ModelError that names the server and says what to do; failures worth trying
 * again are marked so.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { ModelError, ModelErrorCode } from '../backend';

export interface ExchangeTimeouts {
  /** From the socket's creation to the TCP connection (a reused keep-alive socket skips this). */
  readonly connectMs: number;
  /** From sending the request to the answer's status line and headers. */
  readonly firstByteMs: number;
  /** Longest silence while the body arrives. */
  readonly idleMs: number;
}

export interface ExchangeRequest {
  readonly method: 'GET' | 'POST';
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly agent: http.Agent;
  readonly timeouts: ExchangeTimeouts;
  /** Fires on cancellation or when the backend closes; its reason (a ModelError) is what the call rejects with. */
  readonly signal: AbortSignal;
  /** Longest body collected (a streamed body is not collected). */
  readonly maxBodyChars: number;
  /**
   * For a 2xx answer: receives the body text as it arrives instead of collecting it. May throw to stop.
   * Returns whether the text was progress: keep-alive comments are not, so a server that only sends
   * those still goes silent for the idle timeout.
   */
  readonly onText?: (text: string) => boolean;
  /** Sees a 2xx answer's headers before its body; may throw to refuse it (e.g. not an event stream). */
  readonly onHeaders?: (headers: http.IncomingHttpHeaders) => void;
  /** How messages name the server (credentials already removed). */
  readonly where: string;
}

export interface ExchangeReply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  /** The collected body ('' for a streamed 2xx answer). */
  readonly body: string;
}

/** A failure a retry may cure (a reset connection, an answer cut short). */
export class RetryableError extends ModelError {
  constructor(
    code: ModelErrorCode,
    message: string,
    /** How long the server asked us to wait, if it did. */
    readonly retryAfterMs?: number,
  ) {
    super(code, message);
  }
}

/** Bodies of error answers are read only this far: enough for any server's message. */
const MAX_ERROR_BODY_CHARS = 64 * 1024;

/**
 * Sends the request and settles once: with the answer (any status) when its body has been read, or
 * with a ModelError. Nothing of it (timers, listeners, sockets of failed exchanges) outlives that.
 */
export function exchange(request: ExchangeRequest): Promise<ExchangeReply> {
  return new Promise<ExchangeReply>((resolve, reject) => {
    const { signal, timeouts, where } = request;
    if (signal.aborted) {
      reject(abortReason(signal));
      return;
    }
    let settled = false;
    let connectTimer: NodeJS.Timeout | undefined;
    let firstByteTimer: NodeJS.Timeout | undefined;
    let idleTimer: NodeJS.Timeout | undefined;
    let req: http.ClientRequest | undefined;

    const cleanup = (): void => {
      clearTimeout(connectTimer);
      clearTimeout(firstByteTimer);
      clearTimeout(idleTimer);
      signal.removeEventListener('abort', onAbort);
    };
    const fail = (error: ModelError): void => {
      if (settled) return;
      settled = true;
      cleanup();
      // Destroying the request destroys its socket too: a half-read connection must never go back
      // to the keep-alive pool.
      req?.destroy();
      reject(error);
    };
    const succeed = (reply: ExchangeReply): void => {
      if (settled) return;
      settled = true;
      cleanup();
      resolve(reply);
    };
    const onAbort = (): void => fail(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });

    const transport = request.url.protocol === 'https:' ? https : http;
    const headers: Record<string, string> = { ...request.headers };
    if (request.body !== undefined) headers['content-length'] = String(Buffer.byteLength(request.body));
    try {
      req = transport.request(request.url, { method: request.method, headers, agent: request.agent });
    } catch (error) {
      fail(new ModelError('connect', `cannot send a request to ${where}: ${(error as Error).message}`));
      return;
    }

    firstByteTimer = setTimeout(
      () => fail(new ModelError('timeout', `${where} did not answer within ${seconds(timeouts.firstByteMs)}; the server may be overloaded or stuck (a very long prompt takes longer to read: try a shorter program, or a less busy server)`)),
      timeouts.firstByteMs,
    );
    req.on('socket', (socket) => {
      if (!socket.connecting) return;
      connectTimer = setTimeout(
        () => fail(new ModelError('timeout', `could not connect to ${where} within ${seconds(timeouts.connectMs)}: check the address, the port and any firewall or VPN in between`)),
        timeouts.connectMs,
      );
      socket.once('connect', () => clearTimeout(connectTimer));
    });
    req.on('error', (error) => fail(networkError(error, where)));
    req.on('response', (res) => {
      clearTimeout(firstByteTimer);
      const status = res.statusCode ?? 0;
      const streaming = request.onText !== undefined && status >= 200 && status < 300;
      if (status >= 200 && status < 300 && request.onHeaders) {
        try {
          request.onHeaders(res.headers);
        } catch (error) {
          fail(error instanceof ModelError ? error : new ModelError('protocol', `${where}: ${(error as Error).message}`));
          return;
        }
      }
      const limit = status >= 200 && status < 300 ? request.maxBodyChars : MAX_ERROR_BODY_CHARS;
      const chunks: string[] = [];
      let collected = 0;
      let ended = false;
      const armIdle = (): void => {
        clearTimeout(idleTimer);
        idleTimer = setTimeout(
          () => fail(new ModelError('timeout', `${where} went silent for ${seconds(timeouts.idleMs)} in the middle of its answer; the server may be stuck`)),
          timeouts.idleMs,
        );
      };
      armIdle();
      res.setEncoding('utf8');
      res.on('data', (text: string) => {
        if (settled) return;
        if (streaming) {
          try {
            const progressed = request.onText?.(text) !== false;
            // What onText did may have ended the exchange (a cancellation from a token's handler).
            if (progressed && !settled) armIdle();
          } catch (error) {
            fail(error instanceof ModelError ? error : new ModelError('protocol', `${where}: ${(error as Error).message}`));
          }
          return;
        }
        armIdle();
        // An error answer is only read for its message: keep the start, ignore the rest.
        if (collected >= limit) {
          if (limit === MAX_ERROR_BODY_CHARS) return;
          fail(new ModelError('protocol', `${where} sent an answer longer than ${limit} characters`));
          return;
        }
        chunks.push(text);
        collected += text.length;
      });
      res.on('end', () => {
        ended = true;
        succeed({ status, headers: res.headers, body: chunks.join('') });
      });
      res.on('error', (error) => fail(networkError(error, where)));
      res.on('close', () => {
        if (!ended) fail(new RetryableError('connect', `${where} closed the connection in the middle of its answer`));
      });
    });
    req.end(request.body);
  });
}

function abortReason(signal: AbortSignal): ModelError {
  const reason: unknown = signal.reason;
  return reason instanceof ModelError ? reason : new ModelError('cancelled', 'the request was cancelled');
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

const TLS_TRUST_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);

/** A Node network error, in words a user can act on. */
function networkError(error: NodeJS.ErrnoException, where: string): ModelError {
  const code = error.code ?? '';
  switch (code) {
    case 'ECONNREFUSED':
      return new RetryableError('connect', `nothing accepts connections at ${where} (connection refused): is the server running, and is the port right?`);
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ECONNABORTED':
      return new RetryableError('connect', `${where} closed the connection unexpectedly (${code})`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ModelError('connect', `cannot find the host of ${where} (${code}): check the spelling, or your DNS and network`);
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new ModelError('connect', `${where} cannot be reached from this machine (${code}): check the network, VPN or firewall`);
    case 'ETIMEDOUT':
      return new ModelError('timeout', `connecting to ${where} timed out (${code}): check the address and any firewall in between`);
    case 'CERT_HAS_EXPIRED':
      return new ModelError('connect', `the TLS certificate of ${where} has expired: renew it on the server`);
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return new ModelError('connect', `the TLS certificate of ${where} is for another host name: connect by the name the certificate names`);
    case 'EPROTO':
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
      return new ModelError('connect', `TLS with ${where} failed (${code}): does the server speak https on this port, or plain http?`);
    default:
      if (TLS_TRUST_CODES.has(code)) {
        return new ModelError('connect', `the TLS certificate of ${where} is not trusted (${code}): pass the server's CA certificate (PEM) as the "ca" option; verification stays on`);
      }
      return new ModelError('connect', `the connection to ${where} failed: ${error.message}${code ? ` (${code})` : ''}`);
  }
}
