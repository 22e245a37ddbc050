/**
 * Where a remote server lives: the base URL the user typed, normalised so `http://h:8000`,
 * `http://h:8000/` and `http://h:8000/v1` all mean the same server, and a display form without
 * credentials for every message the user (or a log) sees.
 */
import { ModelError } from '../backend';

export interface Endpoint {
  /** Base URL without credentials, query or a trailing `/v1`; never ends with `/`. */
  readonly base: URL;
  /** What messages show: the base URL, credentials removed. */
  readonly display: string;
  /** `user:password` from the URL, sent as HTTP Basic auth (a reverse proxy's login). */
  readonly basicAuth?: string;
}

export function parseEndpoint(text: string): Endpoint {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new ModelError('bad-request', `"${redactUrlText(text)}" is not a URL; give the server's address, e.g. http://gpu-box:8000 or https://host/v1`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ModelError('bad-request', `the endpoint must be an http:// or https:// URL, not ${url.protocol}//…`);
  }
  const basicAuth = url.username || url.password ? `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}` : undefined;
  const base = new URL(url.origin);
  let path = url.pathname.replace(/\/+$/, '');
  if (path.endsWith('/v1')) path = path.slice(0, -3);
  base.pathname = path === '' ? '/' : path;
  const display = base.href.replace(/\/$/, '');
  return { base, display, ...(basicAuth !== undefined ? { basicAuth } : {}) };
}

/** The URL of an API path (`/v1/models`, `/tokenize`) under the endpoint's base. */
export function apiUrl(endpoint: Endpoint, path: string): URL {
  const url = new URL(endpoint.base.href);
  url.pathname = (url.pathname.replace(/\/$/, '') + path).replace(/\/{2,}/g, '/');
  return url;
}

/** Best effort for text that did not even parse as a URL: drop anything that looks like `user:pass@`. */
function redactUrlText(text: string): string {
  return text.replace(/\/\/[^/@\s]*@/, '//');
}

/**
 * Removes secrets from text that may have come from anywhere (a server's error message, an error
 * thrown by Node), so no message, error or log line ever carries them.
 */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 4) out = out.split(secret).join('***');
  }
  return out;
}
