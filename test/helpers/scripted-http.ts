/**
 * Small HTTP servers scripted by a test, on 127.0.0.1 with real sockets: they answer however the
 * test says (vLLM-like, or misbehaving), record every request, and count open connections so a
 * test can prove the client left none behind.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  /** The body as JSON, or undefined when it is not JSON. */
  readonly json: Record<string, unknown> | undefined;
}

/** Answers one request; `index` counts requests to this server from 0. */
export type Script = (request: RecordedRequest, res: http.ServerResponse, index: number) => void | Promise<void>;

export interface ScriptedServer {
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Connections open right now. */
  openConnections(): number;
  /** Resolves once no connection is open (rejects after `timeoutMs`). */
  waitForNoConnections(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface TlsMaterial {
  readonly key: string;
  readonly cert: string;
}

export async function scriptedServer(script: Script, tls?: TlsMaterial): Promise<ScriptedServer> {
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: Record<string, unknown> | undefined;
      try {
        json = JSON.parse(body) as Record<string, unknown>;
      } catch {
        json = undefined;
      }
      const recorded: RecordedRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, json };
      requests.push(recorded);
      const index = requests.length - 1;
      Promise.resolve()
        .then(() => script(recorded, res, index))
        .catch((error: Error) => {
          if (!res.headersSent) res.writeHead(599).end(error.message);
          else res.destroy();
        });
    });
  };
  const server = tls ? https.createServer({ key: tls.key, cert: tls.cert }, handler) : http.createServer(handler);
  server.on(tls ? 'secureConnection' : 'connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // A TLS handshake that the client rejects never becomes a secure connection; count raw sockets too.
  if (tls) {
    server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests,
    openConnections: () => sockets.size,
    waitForNoConnections: async (timeoutMs = 2000) => {
      const deadline = Date.now() + timeoutMs;
      while (sockets.size > 0) {
        if (Date.now() > deadline) throw new Error(`${sockets.size} connection(s) still open after ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

/** vLLM's /v1/models answer. */
export function vllmModels(id = 'facebook/cwm', maxModelLen = 131072): unknown {
  return { object: 'list', data: [{ id, object: 'model', created: 0, owned_by: 'vllm', root: id, parent: null, max_model_len: maxModelLen, permission: [] }] };
}

/** Starts an event stream the way vLLM does. */
export function startStream(res: http.ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
}

export interface VllmChunkOptions {
  readonly finish?: 'stop' | 'length' | 'abort' | string;
  readonly stopReason?: number | string | null;
  /** Spell ids only through logprobs (`token_id:N`), as vLLM before return_token_ids did (default true). */
  readonly viaLogprobs?: boolean;
}

/** One streamed completion chunk as vLLM writes it. */
export function vllmChunk(ids: readonly number[], options: VllmChunkOptions = {}): string {
  const viaLogprobs = options.viaLogprobs ?? true;
  const choice: Record<string, unknown> = {
    index: 0,
    text: ids.map((id) => `<${id}>`).join(''),
    logprobs: viaLogprobs ? { text_offset: ids.map((_, i) => i), token_logprobs: ids.map(() => -0.5), tokens: ids.map((id) => `token_id:${id}`), top_logprobs: ids.map((id) => ({ [`token_id:${id}`]: -0.5 })) } : null,
    finish_reason: options.finish ?? null,
    stop_reason: options.stopReason ?? null,
  };
  if (!viaLogprobs) choice.token_ids = [...ids];
  return `data: ${JSON.stringify({ id: 'cmpl-test', object: 'text_completion', created: 0, model: 'facebook/cwm', choices: [choice] })}\n\n`;
}

export const DONE = 'data: [DONE]\n\n';

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface RawAnswer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
  /** The body as JSON (undefined when it is not JSON). */
  readonly json: unknown;
}

/** One request on a fresh connection that closes afterwards (nothing kept alive). */
export function rawRequest(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const req = http.request(url, { method, agent: false, headers: { ...(text !== undefined ? { 'content-type': 'application/json' } : {}), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const answer = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(answer);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text: answer, json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(text);
  });
}
