/**
 * Small checked readers for JSON that came over the network: every value is `unknown` until a
 * reader has looked at it, and a reader that finds the wrong shape says which field and where.
 */

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The message inside an error body, in the shapes OpenAI, vLLM and FastAPI use. */
export function errorMessageOf(body: unknown): string | undefined {
  if (!isObject(body)) return undefined;
  const error = body.error;
  if (typeof error === 'string') return error;
  if (isObject(error) && typeof error.message === 'string') return error.message;
  if (typeof body.message === 'string') return body.message;
  const detail = body.detail;
  if (typeof detail === 'string') return detail;
  if (Array.isArray(detail)) {
    const messages = detail.map((item) => (isObject(item) && typeof item.msg === 'string' ? item.msg : undefined)).filter((m): m is string => m !== undefined);
    if (messages.length > 0) return messages.join('; ');
  }
  return undefined;
}

/** Parses JSON, or returns undefined (the caller decides what a non-JSON body means). */
export function tryParseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export function isTokenId(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

/** `token_id:123` (vLLM's `return_tokens_as_token_ids` spelling) → 123. */
export function tokenIdFromLabel(label: string): number | undefined {
  const match = /^token_id:(\d+)$/.exec(label);
  return match ? Number(match[1]) : undefined;
}
