import { z } from 'zod';
import type { RouteDefinition } from './route-definition';

type JsonObject = Record<string, unknown>;

const ErrorBodySchema = z.object({
  code: z.string().describe('stable machine code, e.g. INVALID_INPUT, CARD_TAKEN'),
  field: z.string().nullable().describe('the request field at fault, or null'),
  message: z.string(),
});

// The statuses every authenticated route can answer besides its own (SPEC §9).
const COMMON_ERRORS: Record<string, string> = {
  '400': 'invalid request (one field named)',
  '401': 'no key, or an unknown or revoked one',
  '403': "the key's channel may not call this operation",
  '413': 'request body too large',
  '429': 'RATE_LIMITED: too many requests for this key (or TC kimlik no); see Retry-After',
  '503': 'a dependency is unavailable; try again',
};

// `io: 'input'` for requests: the document shows what a client sends, before the schemas'
// normalising transforms (upper-casing a card number) run.
const jsonSchema = (schema: z.ZodType, io: 'input' | 'output'): JsonObject => {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonObject;
  return rest;
};

/** OpenAPI 3.1 for the routes, built from the same zod schemas that check their requests. */
export function buildOpenApiDocument(routes: readonly RouteDefinition[]): JsonObject {
  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const route of routes) {
    const path = route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const parameters = route.params ? pathParameters(jsonSchema(route.params, 'input')) : undefined;
    const errors = Object.fromEntries(
      Object.entries({ ...COMMON_ERRORS, ...route.errors }).map(([status, description]) => [
        status,
        { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
      ]),
    );
    paths[path] ??= {};
    paths[path][route.method.toLowerCase()] = {
      summary: route.summary,
      security: [{ apiKey: [] }],
      'x-channels': route.channels,
      ...(parameters ? { parameters } : {}),
      ...(route.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: jsonSchema(route.body, 'input') } },
            },
          }
        : {}),
      responses: {
        [String(route.status ?? 200)]: {
          description: route.status === 201 ? 'Created' : 'OK',
          content: { 'application/json': { schema: jsonSchema(route.response, 'output') } },
        },
        ...errors,
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Boarding registry API',
      version: '1',
      description:
        'Card – HES – TC matching for the web site, kiosks, activation points and staff (SPEC §9).',
    },
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer bk_…' },
      },
      schemas: { Error: jsonSchema(ErrorBodySchema, 'output') },
    },
    paths,
  };
}

function pathParameters(schema: JsonObject): JsonObject[] {
  const properties = (schema.properties ?? {}) as Record<string, JsonObject>;
  return Object.entries(properties).map(([name, s]) => ({ name, in: 'path', required: true, schema: s }));
}
