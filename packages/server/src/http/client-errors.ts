import http from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errorBody } from './error-body.ts';

/**
 * Requests Node's HTTP parser refuses before Fastify sees them (a NUL or control byte in a header,
 * a malformed request line, contradictory framing, headers over the size limit) get the same wire
 * shape as every other error; Fastify's default answer has no timestamp and says only "Client Error".
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  // A reset connection has nobody left to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [
          431,
          'The request headers (the URL included) exceed the size limit: send a shorter URL or fewer headers.',
        ]
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'The request did not arrive in time: send it again.']
        : [
            400,
            'The request is not valid HTTP/1.1: check the request line, that header values contain no control characters, and the body framing (content-length or chunked, not both).',
          ];
  if (socket.writable) {
    const body = JSON.stringify(errorBody(status, message));
    socket.write(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}

/** Fastify's routing errors that are the caller's fault, with what to do about them. */
const ROUTING_ERRORS: Record<string, [number, string, string]> = {
  FST_ERR_BAD_URL: [
    400,
    'The URL path is not valid percent-encoding (for example "%E0%A4%A" or a lone "%"): encode ids with encodeURIComponent.',
    'url: invalid percent-encoding',
  ],
  FST_ERR_MAX_PARAM_LENGTH: [
    414,
    'A path parameter is longer than any id (100 characters at most): check the id in the URL.',
    'url: path parameter too long',
  ],
};

/**
 * Errors Fastify raises while routing, before any hook or the error handler runs: a path whose
 * percent-encoding does not decode (%E0%A4%A, a lone %), a path parameter over the router's length
 * limit, or a failed async constraint (none is used; a 500 if one ever fails).
 */
export function frameworkErrorHandler(
  error: { code?: string; message: string },
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  const known = error.code ? ROUTING_ERRORS[error.code] : undefined;
  if (known) {
    const [status, message, detail] = known;
    reply.status(status).send(errorBody(status, message, { errors: [detail] }));
    return;
  }
  request.log.error({ err: error }, 'unhandled error');
  reply.status(500).send(errorBody(500, 'Internal server error.'));
}
