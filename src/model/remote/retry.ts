/**
 * When to try a request again and how long to wait first: exponential backoff with jitter (so many
 * clients of one overloaded server do not retry in step), or exactly what the server asked for in
 * `Retry-After`.
 */
import { ModelError } from '../backend';

/** Statuses that say "not now" rather than "not ever". */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 500, 502, 503, 504]);

export interface RetryPolicy {
  /** Further attempts after the first. */
  readonly retries: number;
  /** Backoff before the first retry; doubles each time. */
  readonly baseDelayMs: number;
  /** No backoff grows beyond this. */
  readonly maxDelayMs: number;
  /** A `Retry-After` longer than this is not waited out: the call fails and says so. */
  readonly maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { retries: 3, baseDelayMs: 500, maxDelayMs: 8000, maxRetryAfterMs: 60_000 };

/** The wait before retry number `retry` (0 for the first): half fixed, half random. */
export function backoffDelay(policy: RetryPolicy, retry: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** `Retry-After` in milliseconds: either delay-seconds or an HTTP date. Undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now: number = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined) return undefined;
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/**
 * Waits, unless `signal` fires first; then rejects with what `reason` builds. The timer is always
 * cleared, so a finished or cancelled wait keeps nothing alive.
 */
export function sleep(ms: number, signal: AbortSignal | undefined, reason: () => ModelError): Promise<void> {
  if (signal?.aborted) return Promise.reject(reason());
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(reason());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
