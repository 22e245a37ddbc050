/**
 * Errors the server answers with, in vLLM's shape: `{"error": {"message", "type", "param", "code"}}`
 * with the HTTP status as `code`, so OpenAI clients show the message.
 */
import { ModelError } from '../backend';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The request field at fault, when there is one. */
    readonly param?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const TYPES: Readonly<Record<number, string>> = {
  400: 'BadRequestError',
  401: 'AuthenticationError',
  404: 'NotFoundError',
  405: 'MethodNotAllowedError',
  413: 'RequestTooLargeError',
  500: 'InternalServerError',
  503: 'ServiceUnavailableError',
};

export interface ErrorBody {
  readonly error: { readonly message: string; readonly type: string; readonly param: string | null; readonly code: number };
}

export function errorBody(status: number, message: string, param?: string): ErrorBody {
  return { error: { message, type: TYPES[status] ?? 'Error', param: param ?? null, code: status } };
}

/** A backend failure as the status a client can act on. */
export function apiErrorOf(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof ModelError) {
    switch (error.code) {
      case 'bad-request':
      case 'context':
        return new ApiError(400, error.message);
      case 'closed':
        return new ApiError(503, error.message);
      default:
        return new ApiError(500, error.message);
    }
  }
  return new ApiError(500, `internal error: ${(error as Error)?.message ?? String(error)}`);
}
