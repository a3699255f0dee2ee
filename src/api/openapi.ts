// The OpenAPI 3.1 document, generated from the declared routes (http.ts `route`) and their
// zod schemas, so it always matches what the server does.
import { z } from 'zod';
import { routeDocs, type RouteDoc } from './http.ts';

const str = { type: 'string' };
const strN = { type: ['string', 'null'] };
const int = { type: 'integer' };
const bool = { type: 'boolean' };
const date = { type: 'string', format: 'date-time' };
const arr = (items: object) => ({ type: 'array', items });

/** Response shapes (what the repositories return, as JSON). */
const responseSchemas: Record<string, object> = {
  Profile: {
    type: 'object',
    properties: {
      id: int, mnId: str, mnLinkLayerIds: arr(str), hnps: arr(str), hnpPool: strN, ipv4HoA: strN,
      ipv4PrefixLength: { type: ['integer', 'null'] }, ipv4Pool: strN, ipv4DefaultRouter: strN, lma: strN, lmaGroup: strN,
      serviceSelection: strN, greKeyPolicy: { enum: ['none', 'optional', 'required'] }, dhcpv4Server: strN, dhcpv6Server: strN, interfaceId: strN,
      mip6FeatureVector: { type: 'string', description: '64-bit MIP6-Feature-Vector as 0x-prefixed hex' }, enabled: bool,
      createdAt: date, updatedAt: date,
    },
  },
  Pool: { type: 'object', properties: { id: int, name: str, family: { enum: [4, 6] }, prefix: str, assignLength: int, ipv4Gateway: strN, size: str, used: int, createdAt: date } },
  Lma: { type: 'object', properties: { id: int, name: str, ipv6Address: strN, ipv4Address: strN, fqdn: strN, group: strN, weight: int, adminState: { enum: ['up', 'down', 'drain'] }, createdAt: date, updatedAt: date } },
  Mag: { type: 'object', properties: { id: str, proxyCoa: arr(str), authorized: bool, description: strN, createdAt: date, updatedAt: date } },
  AaaClient: { type: 'object', properties: { id: int, kind: { enum: ['radius', 'diameter'] }, name: strN, address: strN, requireMessageAuthenticator: bool, identity: strN, realm: strN, allowedAddresses: { type: 'array', items: { type: 'string' } }, tlsFingerprint: strN, hasSecret: bool, createdAt: date, updatedAt: date } },
  Binding: { type: 'object', properties: { mnId: str, mnLinkLayerId: strN, accessTechType: { type: ['integer', 'null'] }, proxyCoa: str, lma: str, hnps: arr(str), ipv4HoA: strN, lifetime: int, registeredAt: date, expiresAt: date, state: str } },
  AccountingRecord: { type: 'object', properties: { id: int, receivedAt: date, statusType: str, sessionId: strN, mnId: strN, nasAddress: strN, nasIdentifier: strN, clientAddress: strN, sessionTime: { type: ['integer', 'null'] }, inputOctets: strN, outputOctets: strN, attributes: { type: 'object' } } },
  AuditEntry: { type: 'object', properties: { id: int, at: date, actor: str, action: str, resource: str, resourceId: strN, before: {}, after: {} } },
  ImportReport: { type: 'object', properties: { ok: bool, total: int, imported: int, errors: arr({ type: 'object', properties: { line: int, mnId: str, field: str, message: str } }) } },
  Error: { type: 'object', properties: { error: { type: 'object', properties: { code: str, message: str, fields: arr({ type: 'object', properties: { field: str, message: str } }) } } } },
};

/** "/profiles/:mnId" -> "/profiles/{mnId}" */
export function toOpenApiPath(p: string): string {
  return p.replace(/:([A-Za-z_]\w*)/g, '{$1}');
}

function jsonSchema(s: z.ZodType): object {
  const j = z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  delete j.$schema;
  return j;
}

function operation(d: RouteDoc): object {
  const params: object[] = [...d.path.matchAll(/:([A-Za-z_]\w*)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: str }));
  if (d.query) {
    for (const [name, s] of Object.entries(d.query.shape)) params.push({ name, in: 'query', required: false, schema: jsonSchema(s as z.ZodType) });
  }
  const ok = d.status ?? (d.response ? 200 : 204);
  const okBody = d.response
    ? { content: { 'application/json': { schema: d.list ? { type: 'object', properties: { items: arr({ $ref: `#/components/schemas/${d.response}` }), total: int, limit: int, offset: int } } : { $ref: `#/components/schemas/${d.response}` } } } }
    : {};
  const err = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
  const responses: Record<string, object> = { [String(ok)]: { description: 'success', ...okBody }, '401': err('missing or wrong bearer token'), '503': err('policy store unavailable') };
  if (d.body || d.bodyText || d.query) responses['400'] = err('invalid input; the message names the field');
  if (d.path.includes(':')) responses['404'] = err('not found');
  if (d.method === 'post' || d.method === 'put' || d.method === 'patch') {
    responses['409'] = err('duplicate identifier or overlapping prefix');
    responses['422'] = err('valid input that cannot be applied (unknown pool, exhausted pool, bad import rows)');
  }
  return {
    summary: d.summary,
    tags: [d.tag],
    operationId: `${d.method}${d.path.replace(/[/:-](\w)/g, (_m, c: string) => c.toUpperCase())}`,
    parameters: params,
    ...(d.body
      ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(d.body) } } } }
      : d.bodyText
        ? { requestBody: { required: true, content: { [d.bodyText]: { schema: str }, 'application/json': { schema: arr(responseSchemas.Profile) } } } }
        : {}),
    responses,
  };
}

export function openApiDocument(version = '0.1.0'): object {
  const paths: Record<string, Record<string, object>> = {};
  for (const d of routeDocs) {
    const p = `/api/v1${toOpenApiPath(d.path)}`;
    (paths[p] ??= {})[d.method] = operation(d);
  }
  const plain = (summary: string) => ({ get: { summary, security: [], responses: { '200': { description: 'ok' }, '503': { description: 'not ready' } } } });
  paths['/healthz'] = plain('Liveness: the process is up');
  paths['/readyz'] = plain('Readiness: the policy store answers');
  paths['/metrics'] = plain('Prometheus metrics');
  paths['/openapi.json'] = plain('This document');
  return {
    openapi: '3.1.0',
    info: { title: 'PMIP6 Suite operator API', version, description: 'Provision mobile-node profiles, LMAs, MAGs and AAA clients; view bindings and accounting.' },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } }, schemas: responseSchemas },
    paths,
  };
}
