// The OpenAPI 3.1 document of the server, made from the same route table the app serves
// (routes.ts): every route is documented and every documented route exists, and each request and
// answer body is the JSON Schema of the zod schema that validates or types it (schemas.ts).

import { z } from 'zod';
import { ErrorBody } from './schemas.ts';
import type { DocumentedRoute, RouteAnswer, RouteBody } from './routes.ts';

/** JSON Schema 2020-12 (OpenAPI 3.1's dialect) of a schema: what it accepts, or what it gives. */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return rest;
}

function pathParameters(path: string): string[] {
  return [...path.matchAll(/\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1] ?? '');
}

function parameters(route: DocumentedRoute): Record<string, unknown>[] {
  const declared = route.parameters ?? [];
  const inPath = pathParameters(route.path).map((name) => ({
    name,
    in: 'path',
    required: true,
    ...(declared.find((p) => p.name === name && p.in === 'path') ?? {}),
    schema: { type: 'string' },
  }));
  const headers = declared
    .filter((p) => p.in === 'header')
    .map((p) => ({ ...p, required: false, schema: { type: 'string' } }));
  const query = route.query === undefined ? {} : jsonSchema(route.query, 'input');
  const queryProperties = (query.properties ?? {}) as Record<string, unknown>;
  const inQuery = Object.entries(queryProperties).map(([name, schema]) => ({
    name,
    in: 'query',
    required: ((query.required ?? []) as string[]).includes(name),
    schema,
  }));
  return [...inPath, ...headers, ...inQuery];
}

function requestBody(body: RouteBody): Record<string, unknown> {
  const content =
    'json' in body
      ? { 'application/json': { schema: jsonSchema(body.json, 'input') } }
      : { [body.bytes]: { schema: { type: 'string', contentMediaType: body.bytes } } };
  return {
    required: true,
    ...(body.description === undefined ? {} : { description: body.description }),
    content,
  };
}

function answer(ok: RouteAnswer): Record<string, unknown> {
  if (ok.json !== undefined) {
    return {
      description: ok.description,
      content: { 'application/json': { schema: jsonSchema(ok.json, 'output') } },
    };
  }
  return {
    description: ok.description,
    ...(ok.contentType === undefined ? {} : { content: { [ok.contentType]: {} } }),
  };
}

function operation(route: DocumentedRoute): Record<string, unknown> {
  const list = parameters(route);
  return {
    summary: route.summary,
    operationId: `${route.method.toLowerCase()}${route.path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, ch: string | undefined) => (ch ?? '').toUpperCase())}`,
    ...(route.caller === 'agent'
      ? { security: [{ agentToken: [] }] }
      : route.action === null
        ? { security: [] }
        : { 'x-winsmith-action': route.action }),
    ...(list.length > 0 ? { parameters: list } : {}),
    ...(route.body === undefined ? {} : { requestBody: requestBody(route.body) }),
    responses: {
      [String(route.ok.status)]: answer(route.ok),
      default: {
        description: 'an error (status from the error code, see docs/errors.md)',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      },
    },
  };
}

export function openApiDocument(
  routes: readonly DocumentedRoute[],
  version: string,
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const item = (paths[route.path] ??= {});
    item[route.method.toLowerCase()] = operation(route);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'winsmith server',
      version,
      description:
        'Images stored as content-addressed chunks: push only what the server lacks, pull with Range; machines and accounts. Authenticate with a Bearer token from POST /api/v1/login.',
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        agentToken: {
          type: 'http',
          scheme: 'bearer',
          description: "a deploy agent's deployment token (winsmith.token= on its kernel command line)",
        },
      },
      schemas: { Error: jsonSchema(ErrorBody, 'output') },
    },
    security: [{ bearer: [] }],
    paths,
  };
}
