import { stringify } from 'csv-stringify/sync';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FieldValue } from '../records/field-coerce.js';
import type { ModuleMeta } from '../records/module-meta.js';
import { STANDARD_MODULES } from '../records/modules/index.js';
import type { CrmRecord } from '../records/record.model.js';
import { restRecord } from '../records/record.view.js';
import {
  type FieldMask,
  type ModuleView,
  presentRecord,
  presentValue,
  withMaskedPlaceholdersKept,
} from '../records/record-presenter.js';
import { csvCell } from '../reports/report-csv.js';
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

  it('recognise their own placeholders, and not ordinary values', () => {
    for (const [kind, v] of [
      ['phone', '+* ***-***-4567'],
      ['phone', '******4567'],
      ['phone', PADDING],
      ['email', 'j***@example.com'],
      ['email', '***@x.org'],
      ['text', 'Ch******'],
      ['text', 'Lo******ce'],
      ['text', PADDING],
    ] as const)
      expect(looksMasked(kind, v), v).toBe(true);
    for (const [kind, v] of [
      ['phone', '+1 555-123-4567'],
      ['phone', '*67 555 123 4567'],
      ['email', 'jane.doe@example.com'],
      ['email', 'a*b@example.com'],
      ['text', 'Chief Financial Officer'],
      ['text', 'rated ****** by a long way, five stars'],
    ] as const)
      expect(looksMasked(kind, v), v).toBe(false);
  });

  // the definition by characters as `Array.from` splits them (a surrogate pair is one, a lone half is one);
  // the formats count them without an array (they run for every masked field of every record listed)
  const byChars = (
    kind: 'phone' | 'email' | 'text',
    p: { keepFirst: number; keepLast: number },
    v: string,
  ) => {
    let out: string;
    if (kind === 'phone') {
      const digits = [...v].filter((c) => c >= '0' && c <= '9').length;
      let seen = 0;
      out =
        digits < p.keepLast + 4 || v.length > 1000
          ? PADDING
          : v.replace(/[0-9]/g, (d) => (++seen <= digits - p.keepLast ? '*' : d));
    } else if (kind === 'email') {
      const at = v.lastIndexOf('@');
      if (at <= 0 || at === v.length - 1) out = PADDING;
      else {
        const local = Array.from(v.slice(0, at));
        const keep = local.length >= p.keepFirst + 3 ? p.keepFirst : 0;
        out = `${local.slice(0, keep).join('')}***@${v.slice(at + 1)}`;
      }
    } else {
      const chars = Array.from(v);
      out =
        chars.length < p.keepFirst + p.keepLast + 4
          ? PADDING
          : chars.slice(0, p.keepFirst).join('') +
            PADDING +
            (p.keepLast ? chars.slice(-p.keepLast).join('') : '');
    }
    return out.includes(v) ? PADDING : out;
  };

  it('mask as the definitions by characters do, surrogate halves and pairs included (property)', () => {
    // UTF-16 units drawn so that pairs, lone halves and '@' all turn up often
    const unit = fc.oneof(
      fc.constantFrom(0xd83d, 0xde00, 0xd800, 0xdfff, 0x40, 0x61, 0xe9, 0x30, 0x35, 0x39, 0x2d, 0x20),
      fc.integer({ min: 0, max: 0xffff }),
    );
    const digitHeavy = fc.oneof(
      fc.integer({ min: 0x30, max: 0x39 }),
      fc.constantFrom(0x20, 0x2d, 0x2b, 0xd83d, 0xde00),
    );
    const value = fc
      .array(fc.oneof(unit, digitHeavy), { maxLength: 20 })
      .map((units) => String.fromCharCode(...units));
    const keep = fc.integer({ min: 0, max: MAX_KEEP });
    fc.assert(
      fc.property(
        fc.constantFrom('email' as const, 'text' as const),
        keep,
        keep,
        value,
        (kind, kf, kl, v) => {
          const p = { keepFirst: kf, keepLast: kind === 'email' ? 0 : kl };
          expect(maskValue(kind, p, v)).toBe(byChars(kind, p, v));
        },
      ),
      { numRuns: 5000 },
    );
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

/**
 * What each channel sends of one record, built the way the channel builds it: the presented record (UI,
 * web services), its REST object (REST reads, webhook `record`), presented changes (history, webhook
 * `changes`), report cells as CSV (report run, CSV export, scheduled mail; one cell at a time) and the label
 * (global search hits, related lists). Global search's matched values are presented fields, audit entries
 * carry field names only.
 */
function channelOutputs(view: ModuleView, rec: CrmRecord): string[] {
  const shown = presentRecord(view, rec);
  const names = Object.keys(rec.fields);
  const cell = (f: string) => presentValue(view, f, rec.fields[f] ?? null);
  return [
    JSON.stringify(shown),
    JSON.stringify(restRecord(view.meta, shown)),
    JSON.stringify(Object.fromEntries(names.map((f) => [f, [null, cell(f)]]))),
    ...names.map((f) => stringify([[csvCell(cell(f))]])),
    shown.label,
  ];
}

describe('property: no presented output contains a masked field’s real value', () => {
  it('for random records and rules (patterns, fields, values), on every channel', () => {
    const skeleton = channelOutputs({ meta, principal, masked: new Map() }, record({})).join('\n');
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
        // what the outputs show with the masked fields empty: a secret already in there (another value's CSV
        // formula guard writes "'" before "@…", say) proves nothing
        const view = { meta, principal, masked } as ModuleView;
        const without = channelOutputs(
          view,
          record(Object.fromEntries(Object.entries(input).map(([k, v]) => [k, masked.has(k) ? null : v]))),
        ).join('\n');
        // values that the record's own structure or another value already contain prove nothing
        fc.pre(
          secrets.every(
            (s) =>
              s.trim() !== '' &&
              !skeleton.includes(s) &&
              // outputs name what is masked (`"masked":["mailingcity"]`): "ke" or "city" there is no leak
              !JSON.stringify({ masked: [...masked.keys()] }).includes(s) &&
              !PADDING.includes(s) &&
              !'***@'.includes(s) &&
              !without.includes(s) &&
              Object.values(input).every((o) => o === s || !String(o).includes(s)),
          ),
        );
        const rec = record(input);
        for (const out of channelOutputs(view, rec))
          for (const s of secrets) {
            expect(out.includes(s), `${s} in ${out}`).toBe(false);
            expect(out.includes(JSON.stringify(s).slice(1, -1)), `${s} in ${out}`).toBe(false);
          }
        // and what a masked viewer reads and sends back (or copies into a new record) is never stored
        const readBack = presentRecord(view, rec).fields;
        const kept = withMaskedPlaceholdersKept(view, rec, { ...readBack }).input;
        const created = withMaskedPlaceholdersKept(view, null, { ...readBack }).input;
        for (const f of fields.filter((f) => masked.has(f.name))) {
          expect(kept[f.name], f.name).toBe(input[f.name]);
          expect(Object.hasOwn(created, f.name), f.name).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  }, 60_000);
});
