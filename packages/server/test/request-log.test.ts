import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import Fastify, { LogController } from 'fastify';
import { lazyRequestLogger, loggerOptions, redactUrl, registerRequestLog } from '../src/http/logging.ts';

/**
 * request.log is made lazily (lazyRequestLogger) and the request line is written without it and
 * without redaction (registerRequestLog): the lines must be the ones Fastify's own per-request pino
 * child writes with redaction on, field for field and in the same order, reqId included.
 */
async function linesOf(lazy: boolean): Promise<string[]> {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const app = Fastify({
    logger: loggerOptions('info', stream),
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: 'x-request-id',
    ...(lazy ? { childLoggerFactory: lazyRequestLogger } : {}),
  });
  if (lazy) registerRequestLog(app);
  else {
    // The reference: the request line through request.log, a pino child made by Fastify.
    app.addHook('onResponse', (request, reply, done) => {
      request.log.info(
        {
          method: request.method,
          url: redactUrl(request.url),
          remoteAddress: request.ip,
          statusCode: reply.statusCode,
          responseTime: reply.elapsedTime,
        },
        'request completed',
      );
      done();
    });
  }
  app.get('/quiet', async () => ({ ok: true }));
  app.get('/talks', async (request) => {
    request.log.debug('below the level: not written');
    request.log.warn({ session: { token: 'secret' }, step: 1 }, 'something to say');
    request.log.child({ part: 'inner' }).info('from a child');
    return { ok: true };
  });
  for (const [url, id] of [
    ['/quiet?token=abc', 'id-1'],
    ['/talks', 'with "quotes" and \\ backslash'],
    ['/quiet', 'id-3'],
  ] as const) {
    await app.inject({ url, headers: { 'x-request-id': id } });
  }
  await app.close();
  // Times differ between runs; everything else must not.
  return chunks
    .join('')
    .trim()
    .split('\n')
    .map((line) =>
      line.replace(/"time":\d+/, '"time":0').replace(/"responseTime":[\d.e-]+/, '"responseTime":0'),
    );
}

describe('request logging', () => {
  test('the lazy request logger writes exactly the lines of a per-request pino child', async () => {
    const lazy = await linesOf(true);
    assert.deepEqual(lazy, await linesOf(false));
    assert.equal(lazy.length, 5);
    const keys = lazy.map((line) => Object.keys(JSON.parse(line)).join(','));
    assert.equal(
      keys[0],
      'level,time,pid,hostname,reqId,method,url,remoteAddress,statusCode,responseTime,msg',
    );
    assert.equal(JSON.parse(lazy[1]!).reqId, 'with "quotes" and \\ backslash');
    assert.equal(JSON.parse(lazy[1]!).session.token, '[redacted]');
    assert.equal(JSON.parse(lazy[2]!).part, 'inner');
    assert.equal(JSON.parse(lazy[0]!).url, '/quiet?token=%5Bredacted%5D');
    assert.equal(JSON.parse(lazy[3]!).reqId, JSON.parse(lazy[1]!).reqId);
  });
});
