/** Reading a request's JSON body with a size limit, and writing JSON answers. */
import type * as http from 'node:http';
import { ApiError, errorBody } from './api-error';

/** The body as text; 413 as soon as it is known to exceed `limit` bytes (before reading, when Content-Length says so). */
export function readBody(req: http.IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const tooLarge = (): ApiError => new ApiError(413, `the request body is larger than ${limit} bytes`);
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      reject(tooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    req.on('data', (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size > limit) {
        settled = true;
        chunks.length = 0;
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (settled) return;
      settled = true;
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    // The client went away before sending the whole body.
    req.on('close', () => {
      if (settled) return;
      settled = true;
      reject(new ApiError(400, 'the client closed the connection before the request body was complete'));
    });
    req.on('error', (error) => {
      if (settled) return;
      settled = true;
      reject(new ApiError(400, `the request body could not be read: ${error.message}`));
    });
  });
}

export async function readJsonBody(req: http.IncomingMessage, limit: number): Promise<unknown> {
  const text = await readBody(req, limit);
  if (text.trim() === '') throw new ApiError(400, 'the request has no body; send a JSON object');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ApiError(400, `the request body is not valid JSON: ${(error as Error).message}`);
  }
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
  if (res.destroyed) return;
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

export function sendError(res: http.ServerResponse, error: ApiError, headers: Readonly<Record<string, string>> = {}): void {
  sendJson(res, error.status, errorBody(error.status, error.message, error.param), headers);
}
