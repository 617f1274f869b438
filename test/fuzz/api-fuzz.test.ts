import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { wsOperations } from '../../src/webservices/ops/index.js';
import { fuzzSeed } from '../fast-check-seed.js';
import { describeEachDialect, type Harness } from '../harness.js';
import { RealKeys, WsKit } from '../ws-kit.js';
import { EDGE_INTEGERS, fromSchema, HOSTILE, type JsonSchema } from './schema-arbitraries.js';

/**
 * Schema-driven fuzzing of every REST operation in `/api/openapi.json` and every web-service operation, on
 * both databases. The one assertion: no 5xx (and no INTERNAL_SERVER_ERROR envelope). `npm test` runs a
 * small fixed-seed budget; `npm run fuzz` sets RAPPORT_FUZZ_RUNS higher and a fresh seed.
 */
const RUNS = Number(process.env.RAPPORT_FUZZ_RUNS ?? 300);
const SEED = fuzzSeed(20261201);
const TIMEOUT = Math.max(60_000, RUNS * 400);
/** What the generated requests got back, printed at the end so a run shows it reached past validation. */
const restOutcomes = new Map<number, number>();
const wsOutcomes = new Map<string, number>();
afterAll(() => {
  console.log(`[fuzz] seed ${SEED}; REST statuses`, Object.fromEntries(restOutcomes));
  console.log('[fuzz] web-service outcomes', Object.fromEntries(wsOutcomes));
});

interface Operation {
  method: string;
  path: string;
  params: { in: string; name: string; schema?: JsonSchema; required?: boolean }[];
  body: JsonSchema | undefined;
}

/** Requests that would end or swap the fuzzing admin's own session: they have tests of their own. */
const SKIP = new Set(['POST /api/v1/auth/logout', 'POST /api/v1/users/{id}/impersonate']);
const MODULES = ['Contacts', 'Leads', 'Accounts', 'Potentials', 'Products', 'Quotes', 'HelpDesk', 'Nope'];

function operationsOf(doc: { paths: Record<string, Record<string, Record<string, unknown>>> }): Operation[] {
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      if (SKIP.has(`${method.toUpperCase()} ${path}`)) continue;
      const content = (op.requestBody as { content?: Record<string, { schema?: JsonSchema }> } | undefined)
        ?.content;
      ops.push({
        method: method.toUpperCase(),
        path,
        params: (op.parameters as Operation['params'] | undefined) ?? [],
        body: content?.['application/json']?.schema,
      });
    }
  }
  return ops;
}

function requestArbitrary(op: Operation, adminId: number) {
  const pathParams = op.params.filter((p) => p.in === 'path');
  const queryParams = op.params.filter((p) => p.in === 'query');
  const pathValue = (name: string, schema?: JsonSchema) =>
    name === 'module'
      ? fc.oneof(fc.constantFrom(...MODULES), fc.string({ maxLength: 10 }))
      : fc.oneof(
          { arbitrary: fc.integer({ min: 1, max: 40 }), weight: 3 },
          { arbitrary: EDGE_INTEGERS, weight: 1 },
          fromSchema(schema),
        );
  return fc
    .record({
      path: fc.record(Object.fromEntries(pathParams.map((p) => [p.name, pathValue(p.name, p.schema)]))),
      query: fc.record(Object.fromEntries(queryParams.map((p) => [p.name, fromSchema(p.schema)])), {
        requiredKeys: [],
      }),
      body: op.body ? fromSchema(op.body) : fc.constant(undefined),
    })
    .filter((r) => {
      // leave the admin who is fuzzing able to go on (their own account has its own tests)
      const target = (r.path as Record<string, unknown>).id;
      return !(
        op.method !== 'GET' &&
        op.path.startsWith('/api/v1/users/{id}') &&
        (target === adminId || target === 'me')
      );
    });
}

/** A lone surrogate cannot be percent-encoded as UTF-8: send the bytes a broken client would send. */
function encodePathValue(v: string): string {
  try {
    return encodeURIComponent(v);
  } catch {
    return encodeURIComponent(v.replace(/[\ud800-\udfff]/g, '')) + '%ED%A0%80';
  }
}

function toUrl(op: Operation, path: Record<string, unknown>, query: Record<string, unknown>): string {
  let url = op.path.replace(/\{(\w+)\}/g, (_, name: string) => encodePathValue(String(path[name])));
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    qs.append(k, typeof v === 'object' ? JSON.stringify(v) : String(v));
  }
  if ([...qs].length) url += `?${qs}`;
  return url;
}

async function fuzzRest(h: Harness): Promise<number> {
  const doc = (await h.request({ method: 'GET', url: '/api/openapi.json' })).json();
  const ops = operationsOf(doc);
  expect(ops.length).toBeGreaterThan(30);
  let sent = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...ops).chain((op) => requestArbitrary(op, h.admin.userId).map((r) => ({ op, ...r }))),
      async ({ op, path, query, body }) => {
        const url = toUrl(op, path, query as Record<string, unknown>);
        const res = await h.request({
          method: op.method as 'GET',
          url,
          as: h.admin,
          ...(body !== undefined && op.method !== 'GET' ? { payload: body as object } : {}),
        });
        sent++;
        restOutcomes.set(res.statusCode, (restOutcomes.get(res.statusCode) ?? 0) + 1);
        if (res.statusCode >= 500) {
          const sentBody = JSON.stringify(body)?.slice(0, 300);
          throw new Error(`${op.method} ${url.slice(0, 300)} ${sentBody} → ${res.statusCode}: ${res.body}`);
        }
      },
    ),
    { numRuns: RUNS, seed: SEED, endOnFailure: true },
  );
  return sent;
}

const WS_PARAMS = [
  'id',
  'element',
  'elementType',
  'query',
  'modifiedTime',
  'syncType',
  'relatedType',
  'relatedLabel',
  'sourceRecordId',
  'relatedRecordId',
  'relationIdLabel',
  'username',
  'accessKey',
];
const WS_VALUE = fc.oneof(
  fc.string({ maxLength: 30 }),
  HOSTILE.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))),
  fc.constantFrom('12x1', '19x1', '11x3000000000', '12x', 'Contacts', 'Users', 'Quotes', 'HelpDesk'),
  fc.constantFrom(
    "SELECT * FROM Contacts WHERE lastname LIKE 'a\\';",
    "SELECT * FROM Contacts WHERE lastname = '\u0000';",
    'SELECT count(*) FROM Leads LIMIT 3000000000;',
    "SELECT * FROM Contacts WHERE id IN ('12x3000000000');",
  ),
  fc
    .dictionary(fc.constantFrom('lastname', 'account_id', 'assigned_user_id', 'id', 'amount'), HOSTILE)
    .map((o) => JSON.stringify(o)),
);

describeEachDialect('fuzz: every REST and web-service operation, generated from their schemas', (h) => {
  const ws = new WsKit(h, (hh) => new RealKeys(hh));
  let session: string;
  beforeAll(async () => {
    await ws.start();
    session = await ws.login('admin', h.admin.userId);
  });

  it(
    `REST: ${RUNS} generated requests, no 5xx`,
    async () => {
      expect(await fuzzRest(h)).toBeGreaterThan(0);
    },
    TIMEOUT,
  );

  it(
    `web services: ${RUNS} generated requests, no 5xx and no internal error`,
    async () => {
      const operations = [...wsOperations().keys()].filter((o) => o !== 'logout');
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...operations),
          fc.boolean(),
          fc.dictionary(fc.constantFrom(...WS_PARAMS), WS_VALUE, { maxKeys: 4 }),
          async (operation, post, params) => {
            const p = { ...params, operation, sessionName: session };
            const res = post ? await ws.post(p) : await ws.get(p);
            wsOutcomes.set(
              res.json?.success ? 'success' : String(res.json?.error?.code),
              (wsOutcomes.get(res.json?.success ? 'success' : String(res.json?.error?.code)) ?? 0) + 1,
            );
            expect(res.status, res.body).toBeLessThan(500);
            if (res.json?.success === false)
              expect(res.json.error.code, `${operation} ${JSON.stringify(params)}: ${res.body}`).not.toBe(
                'INTERNAL_SERVER_ERROR',
              );
          },
        ),
        { numRuns: RUNS, seed: SEED, endOnFailure: true },
      );
    },
    TIMEOUT,
  );
});
