import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorExample } from '../schemas/examples.ts';

/** What one response means, for the reference at /docs (documentation only: nothing is validated). */
export interface ResponseDoc {
  description: string;
  /** Response headers worth knowing, by name: their meaning. */
  headers?: Record<string, string>;
  /** A body that is not JSON (an HTML page, an SVG): its media type and an example. */
  content?: { type: string; example: string };
  /** The example body, when the response schema carries none (or a more telling one for this route). */
  example?: unknown;
}

declare module 'fastify' {
  interface FastifySchema {
    /**
     * Per status code: the description, headers and example of the response in the OpenAPI document.
     * Statuses without a zod response schema (redirects, HTML pages) are documented from this alone.
     */
    responseDocs?: Record<number, string | ResponseDoc>;
  }
}

/** What each error status means on every route; a route's responseDocs can say more. */
const ERROR_DESCRIPTIONS: Record<string, string> = {
  400: 'Invalid request: `message` names each problem and `errors` lists them one per line.',
  401: 'Missing, unknown, expired or revoked credentials (API key or session token).',
  403: 'The credentials are valid but not allowed here (for example a session bound to other origins).',
  404: 'Not found in this project: unknown ids and ids of other projects get the same answer.',
  409: 'Conflicts with the current state (for example an integration that accounts still use).',
  413: 'The request body is too large.',
  422: 'Understood but not possible for this account (for example no OAuth client to refresh with).',
  429: 'Rate limit exceeded: retry after the number of seconds in the Retry-After header.',
  502: 'The provider could not be reached or answered with an error; `provider_response` carries its answer or the network error.',
  503: 'Temporarily unavailable (the database, or a provider that is down): Retry-After says when to try again.',
  504: 'The provider did not answer in time.',
};

type TransformInput = Parameters<typeof jsonSchemaTransform>[0];
type TransformObjectInput = Parameters<typeof jsonSchemaTransformObject>[0];
type JsonObject = Record<string, unknown>;

/** The first example of a zod schema: its own `.meta({ examples })`, else built from what it wraps. */
export function exampleOf(schema: unknown): unknown {
  if (!(schema instanceof z.ZodType)) return undefined;
  const own = z.globalRegistry.get(schema)?.examples;
  if (Array.isArray(own) && own.length > 0) return own[0];
  if (schema instanceof z.ZodArray) {
    const item = exampleOf(schema.element);
    return item === undefined ? undefined : [item];
  }
  if (schema instanceof z.ZodOptional || schema instanceof z.ZodNullable) return exampleOf(schema.unwrap());
  if (schema instanceof z.ZodPipe) return exampleOf(schema.in);
  return undefined;
}

const normalise = (doc: string | ResponseDoc | undefined): ResponseDoc | undefined =>
  typeof doc === 'string' ? { description: doc } : doc;

type RouteSchema = JsonObject & { responseDocs?: Record<string, string | ResponseDoc> };

/**
 * fastify-type-provider-zod's transforms, plus what zod schemas cannot say: a description for every
 * response, headers such as a redirect's Location, non-JSON bodies, and an example on every request
 * and response body (from the schemas' `.meta({ examples })`). These are written into the finished
 * document, because @fastify/swagger drops anything placed next to a `$ref`.
 */
export function createOpenApiTransforms() {
  const routes = new Map<string, RouteSchema>();

  const transform = (input: TransformInput): ReturnType<typeof jsonSchemaTransform> => {
    const result = jsonSchemaTransform(input);
    const schema = result.schema as JsonObject | undefined;
    if (!input.schema || !schema || schema.hide) return result;
    const { responseDocs: _docs, ...rest } = schema;
    const methods = [input.route.method].flat();
    const path = (result.url ?? input.url).replace(/:(\w+)/g, '{$1}');
    for (const method of methods) routes.set(`${method.toLowerCase()} ${path}`, input.schema as RouteSchema);
    return { ...result, schema: rest };
  };

  const transformObject = (input: TransformObjectInput) => {
    const document = jsonSchemaTransformObject(input) as JsonObject & {
      paths?: Record<string, Record<string, JsonObject>>;
    };
    for (const [key, source] of routes) {
      const [method, path] = key.split(' ', 2) as [string, string];
      const operation = document.paths?.[path]?.[method];
      if (operation) document.paths![path]![method] = documentOperation(operation, source);
    }
    return document;
  };

  return { transform, transformObject };
}

function documentOperation(operation: JsonObject, source: RouteSchema): JsonObject {
  const zodResponses = (source.response ?? {}) as Record<string, unknown>;
  const docs = source.responseDocs ?? {};
  const generated = (operation.responses ?? {}) as Record<string, JsonObject>;
  // A route without a response schema gets @fastify/swagger's placeholder 200: it documents nothing.
  const statuses = new Set([...Object.keys(zodResponses), ...Object.keys(docs)]);
  const responses: Record<string, JsonObject> = {};
  for (const status of [...statuses].sort()) {
    const doc = normalise(docs[status]);
    const response: JsonObject = { ...(status in zodResponses ? generated[status] : {}) };
    const generatedDescription =
      response.description === 'Default Response' ? undefined : response.description;
    const description = doc?.description ?? generatedDescription ?? ERROR_DESCRIPTIONS[status];
    if (description) response.description = description;
    if (doc?.headers) {
      response.headers = Object.fromEntries(
        Object.entries(doc.headers).map(([name, text]) => [
          name,
          { description: text, schema: { type: 'string' } },
        ]),
      );
    }
    if (doc?.content) {
      response.content = { [doc.content.type]: { schema: { type: 'string' }, example: doc.content.example } };
    }
    const json = (response.content as Record<string, JsonObject> | undefined)?.['application/json'];
    if (json && json.example === undefined && json.examples === undefined) {
      const example = doc?.example ?? exampleOf(zodResponses[status]) ?? defaultErrorExample(status, source);
      if (example !== undefined) {
        response.content = { ...(response.content as JsonObject), 'application/json': { ...json, example } };
      }
    }
    responses[status] = response;
  }

  const body = operation.requestBody as { content?: Record<string, JsonObject> } | undefined;
  const media = body?.content?.['application/json'];
  let requestBody = body;
  if (body && media && media.example === undefined && media.examples === undefined) {
    const example = exampleOf(source.body);
    if (example !== undefined)
      requestBody = { ...body, content: { ...body.content, 'application/json': { ...media, example } } };
  }
  return { ...operation, ...(requestBody ? { requestBody } : {}), responses };
}

/** A realistic error body for a status, picked by what the route takes (body, query or path). */
function defaultErrorExample(status: string, source: JsonObject): unknown {
  if (!(status in ERROR_DESCRIPTIONS)) return undefined;
  return errorExample(Number(status), {
    body: source.body !== undefined,
    query: source.querystring !== undefined,
    params: source.params !== undefined,
    hub: Array.isArray(source.tags) && source.tags.includes('Hub'),
  });
}
