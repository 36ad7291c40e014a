import type { FastifyInstance } from 'fastify';
import { validationFailed } from '../errors.ts';

/** Deeper JSON than this is refused before parsing: no request of the API nests anywhere near it. */
export const MAX_JSON_DEPTH = 64;

/**
 * Depth of JSON nesting, counted over the raw text (brackets inside strings ignored). Parsing a body
 * nested 20,000 levels deep succeeds, but serialising or validating it again overflows the stack: the
 * cheap way out is to never accept it.
 */
export function jsonDepth(text: string, stopAt = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > max) max = depth;
      if (max > stopAt) return max;
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
  }
  return max;
}

/**
 * Input no route can use is refused up front with a 400 in the wire shape, instead of reaching the
 * database (PostgreSQL rejects NUL in text, which would surface as a 500).
 */
export function registerInputGuards(app: FastifyInstance): void {
  // A callback hook, not an async one: it runs on every request, and a promise per call is not free.
  app.addHook('onRequest', (request, _reply, done) => {
    if (!/%00/i.test(request.url)) return done();
    done(
      validationFailed('The URL contains a NUL character (%00), which no id or parameter may contain.', [
        'url: contains %00',
      ]),
    );
  });
}
