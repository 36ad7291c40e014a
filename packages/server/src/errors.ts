/**
 * Domain errors: services throw these with a stable code; http/error-handler.ts is the one place that
 * turns them into HTTP responses. Messages are written for the API caller and say how to fix things.
 */
export type ErrorCode =
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'validation_failed'
  | 'unprocessable'
  | 'rate_limited'
  | 'provider_unavailable'
  | 'provider_timeout'
  | 'provider_error'
  | 'unavailable';

export interface ErrorDetails {
  /** One line per validation problem. */
  errors?: string[];
  /** What a provider answered when it rejected credentials (hub errors carry it, as a string). */
  provider_response?: string;
  /** The status the caller sees instead of the code's own: a provider's 4xx passed on by the proxy. */
  status?: number;
  /** Sent as Retry-After (429, 503). */
  retryAfterSeconds?: number;
  /** An account's status reasons, when its state is why the request failed (409 needs reconnecting). */
  status_reasons?: Array<{ code: string; description: string; timestamp: string }> | null;
}

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetails = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const unauthorized = (message: string) => new DomainError('unauthorized', message);
export const notFound = (what: string) =>
  new DomainError('not_found', `${what} was not found in this project.`);
export const conflict = (message: string) => new DomainError('conflict', message);
export const validationFailed = (message: string, errors: string[] = []) =>
  new DomainError('validation_failed', message, { errors });
