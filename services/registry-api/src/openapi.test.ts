import { buildOpenApiDocument } from './openapi';
import { ROUTES } from './routes';

type Doc = {
  openapi: string;
  paths: Record<
    string,
    Record<string, { 'x-channels': string[]; requestBody?: unknown; responses: Record<string, unknown> }>
  >;
};

describe('OpenAPI document', () => {
  const doc = buildOpenApiDocument(ROUTES) as Doc;

  it('lists every route with its channels and the SPEC §9 error statuses', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/v1/matches',
      '/v1/matches/card-replacement',
      '/v1/matches/current',
      '/v1/matches/hes-code',
      '/v1/me',
      '/v1/staff/card-history',
      '/v1/staff/card-lookup',
      '/v1/staff/corrections',
      '/v1/staff/unmatch',
    ]);
    expect(doc.paths['/v1/matches']?.post?.['x-channels']).toEqual(['WEB', 'KIOSK', 'ACTIVATION_POINT']);
    expect(Object.keys(doc.paths['/v1/matches']?.post?.responses ?? {})).toEqual(
      expect.arrayContaining(['201', '400', '401', '403', '409', '429', '503']),
    );
    expect(doc.paths['/v1/staff/card-lookup']?.post?.['x-channels']).toEqual(['STAFF']);
    expect(Object.keys(doc.paths['/v1/me']?.get?.responses ?? {})).toEqual(
      expect.arrayContaining(['200', '400', '401', '403', '413', '429', '503']),
    );
  });

  it('shows the request schema the route checks with: the card number rule, no unknown fields', () => {
    expect(doc.paths['/v1/staff/card-lookup']?.post?.requestBody).toEqual({
      required: true,
      content: {
        'application/json': {
          schema: {
            type: 'object',
            properties: {
              cardNo: { type: 'string', description: 'the printed card number: 8-20 characters of 0-9 A-F' },
            },
            required: ['cardNo'],
            additionalProperties: false,
          },
        },
      },
    });
  });
});
