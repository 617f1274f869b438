import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDialect } from '../../test/harness.js';
import { WsKit } from '../../test/ws-kit.js';
import { wsOperations } from './ops/index.js';

// logout would end the session the other runs need; it has its own tests
const OPERATIONS = [...wsOperations().keys()]
  .filter((o) => o !== 'logout')
  .concat(['frobnicate', 'LOGIN', '']);
const PARAM_NAMES = [
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
  'fieldTypeList',
];
const VALUES = fc.oneof(
  fc.string(),
  fc.constantFrom(
    '12x1',
    '19x1',
    '99x1',
    '12x',
    'x',
    '[',
    '{}',
    '[]',
    'null',
    'Contacts',
    'Users',
    'Quotes',
    '-1',
  ),
  fc.json(),
  fc.constantFrom(
    "SELECT * FROM Contacts WHERE lastname = 'x' OR 1=1;",
    'SELECT count(*) FROM Leads LIMIT 0,1;',
  ),
);

describeEachDialect('web services: fuzzed requests', (h) => {
  const ws = new WsKit(h);
  let session: string;
  beforeAll(async () => {
    await ws.start();
    session = await ws.login('admin', h.admin.userId);
  });
  afterAll(() => ws.stop());

  it('answers any parameters with the envelope on HTTP 200 and never an internal error', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...OPERATIONS),
        fc.boolean(),
        fc.dictionary(fc.constantFrom(...PARAM_NAMES), VALUES, { maxKeys: 4 }),
        async (operation, post, params) => {
          const p = { ...params, operation, sessionName: session };
          const res = post ? await ws.post(p) : await ws.get(p);
          expect(res.status).toBe(200);
          expect(typeof res.json?.success).toBe('boolean');
          if (!res.json.success) {
            expect(Object.keys(res.json.error)).toEqual(['message', 'code']);
            expect(res.json.error.code, res.body).not.toBe('INTERNAL_SERVER_ERROR');
          }
        },
      ),
      { numRuns: 250 },
    );
  });
});
