import fc from 'fast-check';
import { expect, it } from 'vitest';
import { describeEachDialect, expectStatus } from '../../test/harness.js';
import type { FieldDef } from './field.types.js';
import { STANDARD_MODULES } from './modules/index.js';

/** A valid input value for a field, of the kinds clients send (JSON types, and strings for numbers). */
function inputFor(field: FieldDef): fc.Arbitrary<unknown> {
  const text = (max: number) =>
    fc.string({ unit: 'grapheme', maxLength: max }).filter((s) => !s.includes('\0'));
  switch (field.type) {
    case 'string':
    case 'url':
      return text(40);
    case 'text':
      return text(200);
    case 'email':
      return fc.emailAddress().filter((e) => e.length <= 255);
    case 'phone':
      return fc.stringMatching(/^\+?[0-9 ()-]{1,20}$/);
    case 'integer':
      return fc.oneof(fc.integer({ min: -2_000_000_000, max: 2_000_000_000 }), fc.integer().map(String));
    case 'decimal':
    case 'currency':
      return fc.double({ min: -1e9, max: 1e9, noNaN: true, noDefaultInfinity: true });
    case 'date':
      return fc
        .date({ min: new Date('1900-01-01'), max: new Date('2199-12-31'), noInvalidDate: true })
        .map((d) => d.toISOString().slice(0, 10));
    case 'boolean':
      return fc.oneof(fc.boolean(), fc.constantFrom('1', '0', 'yes', 'no'));
    case 'picklist':
      return fc.constantFrom(...(field.picklistValues ?? ['']));
    case 'multipicklist':
      return fc.subarray([...(field.picklistValues ?? [])]);
    default:
      return fc.constant(null);
  }
}

const MODULES = ['Contacts', 'Leads', 'Accounts', 'Potentials', 'HelpDesk'];

describeEachDialect('record writes answer exactly what a later read returns', (h) => {
  for (const name of MODULES) {
    const def = STANDARD_MODULES.find((m) => m.name === name)!;
    const writable = def.fields.filter(
      (f) => f.editable && f.storage === 'module' && f.type !== 'reference' && !f.mandatory,
    );
    const mandatory = def.fields.filter((f) => f.mandatory && f.editable && f.storage === 'module');
    const inputOf = (fields: FieldDef[]) =>
      fc.record(Object.fromEntries(fields.map((f) => [f.name, inputFor(f)])), { requiredKeys: [] });

    it(`${name}: create and change random fields; the response equals the stored record`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.record(Object.fromEntries(mandatory.map((f) => [f.name, inputFor(f)]))),
          inputOf(writable),
          inputOf(writable),
          async (required, first, second) => {
            const base = Object.fromEntries(
              Object.entries(required).map(([k, v]) => [
                k,
                typeof v === 'string' && v.trim() === '' ? 'x' : v,
              ]),
            );
            const created = await h.request({
              method: 'POST',
              url: `/api/v1/records/${name}`,
              as: h.admin,
              payload: { ...base, ...first },
            });
            expectStatus(created, 201);
            const url = `/api/v1/records/${name}/${created.json().id}`;
            expect(created.json()).toEqual((await h.request({ method: 'GET', url, as: h.admin })).json());
            const patched = await h.request({
              method: 'PATCH',
              url,
              as: h.admin,
              payload: { ...second, version: 1 },
            });
            expectStatus(patched, 200);
            expect(patched.json()).toEqual((await h.request({ method: 'GET', url, as: h.admin })).json());
          },
        ),
        { numRuns: 15 },
      );
    }, 120_000);
  }
});
