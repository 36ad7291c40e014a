import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { DomainError, type ErrorCode } from '../errors.ts';
import { errorBody } from './error-body.ts';
import { trackRoutesForMethodNotAllowed } from './method-not-allowed.ts';

const STATUS_BY_CODE: Record<ErrorCode, number> = {
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  validation_failed: 400,
  unprocessable: 422,
  rate_limited: 429,
  provider_unavailable: 502,
  provider_timeout: 504,
  provider_error: 502,
  unavailable: 503,
};

/** Readable messages for Fastify's own request errors, which otherwise leak internal wording. */
const FASTIFY_MESSAGES: Record<string, string> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'Unsupported content type: send the body as application/json.',
  FST_ERR_CTP_BODY_TOO_LARGE: 'The request body is too large.',
  FST_ERR_CTP_EMPTY_JSON_BODY:
    'The body is empty although content-type is application/json: send a JSON object.',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'The content-length header does not match the body.',
};

/**
 * The single place where errors become HTTP responses. Domain errors keep their message; request
 * errors get a fixed, helpful one; anything unexpected is logged and answered with a bare 500 so no
 * stack trace or internal detail reaches the caller.
 */
/** PostgreSQL (and PGlite) SQLSTATE classes 22 "data exception" and 54 "program limit exceeded". */
function isStorageRefusal(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(22|54)[0-9A-Z]{3}$/.test(code);
}

export function registerErrorHandling(app: FastifyInstance): void {
  const allowedMethods = trackRoutesForMethodNotAllowed(app);
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof DomainError) {
      const status = error.details.status ?? STATUS_BY_CODE[error.code];
      const { errors, provider_response, retryAfterSeconds, status_reasons } = error.details;
      const extra = {
        ...(errors?.length ? { errors } : {}),
        ...(provider_response !== undefined ? { provider_response } : {}),
        ...(status_reasons !== undefined ? { status_reasons } : {}),
      };
      if (retryAfterSeconds !== undefined) reply.header('retry-after', String(retryAfterSeconds));
      return reply.status(status).send(errorBody(status, error.message, extra));
    }
    if (hasZodFastifySchemaValidationErrors(error)) {
      const errors = error.validation.map((issue) => {
        const where = [error.validationContext, ...issue.instancePath.split('/').filter(Boolean)].join('.');
        return `${where}: ${issue.message}`;
      });
      return reply.status(400).send(errorBody(400, `Invalid request: ${errors.join('; ')}`, { errors }));
    }
    if (isResponseSerializationError(error)) {
      request.log.error({ err: error, issues: error.cause.issues }, 'response did not match its schema');
      return reply.status(500).send(errorBody(500, 'Internal server error.'));
    }
    if (isStorageRefusal(error)) {
      // Data the database cannot store (NUL or invalid UTF-8 in text, numbers out of range, values too
      // large for an index): the request's fault, whatever route it reached.
      return reply
        .status(400)
        .send(
          errorBody(
            400,
            'The request contains a value that cannot be stored (NUL, invalid text or out of range).',
          ),
        );
    }
    const status = error.statusCode ?? 500;
    if (status === 429) {
      return reply.status(429).send(errorBody(429, error.message));
    }
    if (status >= 400 && status < 500) {
      const message =
        FASTIFY_MESSAGES[error.code] ??
        (error instanceof SyntaxError || error.code === 'FST_ERR_CTP_INVALID_JSON_BODY'
          ? 'The body is not valid JSON.'
          : 'The request could not be processed.');
      return reply.status(status).send(errorBody(status, message));
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.status(500).send(errorBody(500, 'Internal server error.'));
  });

  app.setNotFoundHandler((request, reply) => {
    const allowed = allowedMethods(request.url);
    if (allowed.length > 0) {
      return reply
        .status(405)
        .header('allow', allowed.join(', '))
        .send(
          errorBody(405, `Method ${request.method} is not allowed here. Allowed: ${allowed.join(', ')}.`),
        );
    }
    return reply
      .status(404)
      .send(errorBody(404, `No route for ${request.method} ${request.url.split('?')[0]}.`));
  });
}
