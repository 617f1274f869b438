import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { FieldDef } from './field.types.js';
import type { ModuleMeta } from './module-meta.js';
import { STANDARD_MODULES } from './modules/index.js';
import {
  recordPageSerializerCompiler,
  restRecord,
  restRecordSchema,
  restRecordSerializerCompiler,
} from './record.view.js';
import type { PresentedRecord } from './record-presenter.js';

const custom: FieldDef = {
  name: '__proto__"); throw 1; ("',
  label: 'Odd',
  type: 'datetime',
  mandatory: false,
  editable: true,
  custom: true,
  storage: 'module',
};

/** The field-by-field construction the generated builder replaced. */
function plainView(meta: ModuleMeta, rec: PresentedRecord): Record<string, unknown> {
  const out: Record<string, unknown> = { id: rec.id, version: rec.version, label: rec.label };
  for (const f of meta.fields) {
    const v = rec.fields[f.name] ?? null;
    out[f.name] = f.type === 'datetime' && typeof v === 'number' ? new Date(v).toISOString() : v;
  }
  return out;
}

const value = fc.oneof(fc.constant(null), fc.string(), fc.integer({ min: 0, max: 4e12 }), fc.boolean());

describe('restRecord', () => {
  for (const def of STANDARD_MODULES) {
    const fields = [...def.fields, custom];
    const meta: ModuleMeta = { ...def, fields, fieldMap: new Map(fields.map((f) => [f.name, f])) };
    it(`shows a ${def.name} record as the field-by-field view does, odd field names included`, () => {
      fc.assert(
        fc.property(fc.array(value, { minLength: fields.length, maxLength: fields.length }), (vals) => {
          const rec = {
            id: 7,
            version: 2,
            label: 'x',
            fields: Object.fromEntries(fields.map((f, i) => [f.name, vals[i]])),
          } as unknown as PresentedRecord;
          const view = restRecord(meta, rec);
          expect(JSON.stringify(view)).toBe(JSON.stringify(plainView(meta, rec)));
          expect(Object.getPrototypeOf(view)).toBe(Object.prototype);
        }),
        { numRuns: 30 },
      );
    });
  }

  it('refuses to serialize a response without an integer id and version and a string label', () => {
    const serialize = restRecordSerializerCompiler();
    expect(serialize({ id: 1, version: 1, label: 'a', x: null })).toBe(
      '{"id":1,"version":1,"label":"a","x":null}',
    );
    for (const bad of [null, {}, { id: '1', version: 1, label: 'a' }, { id: 1, version: 1.5, label: 'a' }])
      expect(() => serialize(bad)).toThrow();
  });

  it('serializes a page of records as zod would, and refuses a page that does not match its schema', () => {
    const schema = z.object({
      items: z.array(restRecordSchema),
      nextCursor: z.string().nullable(),
      total: z.number().int().optional(),
    });
    const serialize = recordPageSerializerCompiler({ schema });
    const page = {
      items: [{ id: 1, version: 2, label: 'a', x: null, when: '2026-01-01T00:00:00.000Z' }],
      nextCursor: null,
    };
    expect(serialize(page)).toBe(JSON.stringify(schema.parse(page)));
    expect(serialize({ ...page, total: 3 })).toBe(JSON.stringify(schema.parse({ ...page, total: 3 })));
    for (const bad of [
      {},
      { items: null, nextCursor: null },
      { items: [{ id: 1, version: 1 }], nextCursor: null },
      { items: [], nextCursor: 5 },
      { items: [], nextCursor: null, total: 1.5 },
    ])
      expect(() => serialize(bad)).toThrow();
  });
});
