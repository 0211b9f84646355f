// The OpenAPI 3.1 document of the server, made from the same route table the app serves
// (routes.ts), so every route is documented and every documented route exists.

import { ERROR_CODES } from '../core/error-codes.ts';
import type { DocumentedRoute } from './routes.ts';

const ERROR_SCHEMA = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message', 'hint'],
      properties: {
        code: { type: 'string', enum: Object.keys(ERROR_CODES) },
        message: { type: 'string' },
        hint: { type: ['string', 'null'] },
      },
    },
  },
};

function pathParameters(path: string): string[] {
  return [...path.matchAll(/\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1] ?? '');
}

function operation(route: DocumentedRoute): Record<string, unknown> {
  const declared = route.parameters ?? [];
  const fromPath = pathParameters(route.path)
    .filter((name) => !declared.some((p) => p.name === name && p.in === 'path'))
    .map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } }));
  const parameters = [
    ...fromPath,
    ...declared.map((p) => ({
      name: p.name,
      in: p.in,
      required: p.in === 'path' ? true : (p.required ?? false),
      description: p.description,
      schema: { type: 'string' },
    })),
  ];
  const responses: Record<string, unknown> = {
    [String(route.ok.status)]: {
      description: route.ok.description,
      content: { [route.ok.contentType]: {} },
    },
    default: {
      description: 'an error (status from the error code, see docs/errors.md)',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    },
  };
  return {
    summary: route.summary,
    operationId: `${route.method.toLowerCase()}${route.path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, ch: string | undefined) => (ch ?? '').toUpperCase())}`,
    ...(route.action === null ? { security: [] } : { 'x-winsmith-action': route.action }),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.body === undefined
      ? {}
      : {
          requestBody: {
            required: true,
            description: route.body.description,
            content: { [route.body.contentType]: {} },
          },
        }),
    responses,
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
      title: 'winsmith repository server',
      version,
      description:
        'Images stored as content-addressed chunks: push only what the server lacks, pull with Range. Authenticate with a Bearer token from POST /api/v1/login.',
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: { Error: ERROR_SCHEMA },
    },
    security: [{ bearer: [] }],
    paths,
  };
}
