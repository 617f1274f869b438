import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FieldValue } from '../records/field-coerce.js';
import type { ModuleMeta } from '../records/module-meta.js';
import { STANDARD_MODULES } from '../records/modules/index.js';
import type { CrmRecord } from '../records/record.model.js';
import { type FieldMask, type ModuleView, presentRecord } from '../records/record-presenter.js';
import type { Principal } from '../roles/permissions.js';
import { looksMasked, MASKABLE_TYPES, MAX_KEEP, maskKind, maskValue, PADDING } from './mask-format.js';

describe('mask formats', () => {
  it('match the settings page examples', () => {
    expect(maskValue('phone', { keepFirst: 0, keepLast: 4 }, '+1 555-123-4567')).toBe('+* ***-***-4567');
    expect(maskValue('phone', { keepFirst: 0, keepLast: 4 }, '5551234567')).toBe('******4567');
    expect(maskValue('email', { keepFirst: 1, keepLast: 0 }, 'jane.doe@example.com')).toBe(
      'j***@example.com',
    );
    expect(maskValue('text', { keepFirst: 2, keepLast: 2 }, 'Lovelace')).toBe('Lo******ce');
    // padding has a fixed length: the mask does not tell how long the value is
    expect(maskValue('text', { keepFirst: 1, keepLast: 1 }, 'a much, much longer value')).toBe('a******e');
    // too short to keep anything
    expect(maskValue('phone', { keepFirst: 0, keepLast: 4 }, '1234567')).toBe(PADDING);
    expect(maskValue('email', { keepFirst: 2, keepLast: 0 }, 'jo@x.org')).toBe('***@x.org');
    expect(maskValue('text', { keepFirst: 2, keepLast: 2 }, 'Ada')).toBe(PADDING);
  });
});

const contacts = STANDARD_MODULES.find((m) => m.name === 'Contacts')!;
const meta: ModuleMeta = { ...contacts, fieldMap: new Map(contacts.fields.map((f) => [f.name, f])) };
const maskable = contacts.fields.filter(
  (f) => MASKABLE_TYPES.includes(f.type) && f.storage === 'module' && f.name !== contacts.numberField?.name,
);
const principal: Principal = { userId: 2, isAdmin: false, roleId: 5, rolePath: '/1/5/', modules: {} };

const valueFor = (type: string): fc.Arbitrary<string> =>
  type === 'email'
    ? fc.emailAddress()
    : type === 'phone'
      ? fc.stringMatching(/^\+?[0-9 ()-]{1,24}$/)
      : fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 });

function record(fields: Record<string, FieldValue>): CrmRecord {
  const all: Record<string, FieldValue> = Object.fromEntries(contacts.fields.map((f) => [f.name, null]));
  const label = [fields.firstname, fields.lastname].filter(Boolean).join(' ');
  return {
    id: 1,
    module: 'Contacts',
    version: 1,
    label,
    ownerId: 1,
    createdBy: 1,
    modifiedBy: 1,
    createdAt: 0,
    modifiedAt: 0,
    deletedAt: null,
    fields: { ...all, ...fields },
  };
}

describe('property: no presented output contains a masked field’s real value', () => {
  it('for random records and rules (patterns, fields, values)', () => {
    const skeleton = JSON.stringify(presentRecord({ meta, principal, masked: new Map() }, record({})));
    const arb = fc
      .subarray(maskable, { minLength: 1, maxLength: 4 })
      .chain((fields) =>
        fc.tuple(
          fc.constant(fields),
          fc.tuple(...fields.map((f) => valueFor(f.type))),
          fc.array(
            fc.record({ keepFirst: fc.nat(MAX_KEEP), keepLast: fc.nat(MAX_KEEP), masked: fc.boolean() }),
            { minLength: fields.length, maxLength: fields.length },
          ),
        ),
      );
    fc.assert(
      fc.property(arb, ([fields, values, rules]) => {
        const masked = new Map<string, FieldMask>();
        const input: Record<string, FieldValue> = {};
        fields.forEach((f, i) => {
          input[f.name] = values[i]!;
          const r = rules[i]!;
          const kind = maskKind(f.type)!;
          if (r.masked)
            masked.set(f.name, {
              mask: (v) => maskValue(kind, r, v),
              isPlaceholder: (v) => looksMasked(kind, v),
            });
        });
        const secrets = fields.filter((f) => masked.has(f.name)).map((f) => String(input[f.name]));
        // values that the record's own structure or another value already contain prove nothing
        fc.pre(
          secrets.every(
            (s) =>
              s.trim() !== '' &&
              !skeleton.includes(s) &&
              !PADDING.includes(s) &&
              !'***@'.includes(s) &&
              Object.values(input).every((o) => o === s || !String(o).includes(s)),
          ),
        );
        const out = JSON.stringify(presentRecord({ meta, principal, masked } as ModuleView, record(input)));
        for (const s of secrets) expect(out.includes(JSON.stringify(s).slice(1, -1)), s).toBe(false);
      }),
      { numRuns: 300 },
    );
  }, 60_000);
});
