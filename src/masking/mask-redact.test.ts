import { describe, expect, it } from 'vitest';
import type { ModuleMeta } from '../records/module-meta.js';
import type { CrmRecord } from '../records/record.model.js';
import type { FieldMask, ModuleView } from '../records/record-presenter.js';
import { maskValue } from './mask-format.js';
import { maskedValueRedactor, redactStrings } from './mask-redact.js';

const TYPES = { phone: 'phone', email: 'email', note: 'text', title: 'string' } as const;
const meta = {
  fieldMap: new Map(Object.entries(TYPES).map(([name, type]) => [name, { name, type }])),
} as unknown as ModuleMeta;
const masks = (names: Array<keyof typeof TYPES>): ReadonlyMap<string, FieldMask> =>
  new Map(
    names.map((n) => {
      const kind = TYPES[n] === 'string' ? 'text' : TYPES[n] === 'text' ? 'text' : TYPES[n];
      const pattern = kind === 'phone' ? { keepFirst: 0, keepLast: 4 } : { keepFirst: 1, keepLast: 0 };
      return [n, { mask: (v) => maskValue(kind, pattern, v), isPlaceholder: () => false }];
    }),
  );
const view = (names: Array<keyof typeof TYPES>) =>
  ({ meta, principal: {}, masked: masks(names) }) as unknown as ModuleView;
const rec = (fields: Record<string, string | null>) =>
  ({ id: 1, module: 'Contacts', fields }) as unknown as CrmRecord;

describe('redacting masked values from text stored with a record', () => {
  const stored = rec({
    phone: '+1 555-123-4567',
    email: 'Jane.Doe@Example.com',
    title: 'C++ (lead) dev',
    note: null,
  });

  it('replaces the stored value, in any case, by the presenter’s placeholder', () => {
    const r = maskedValueRedactor(view(['email', 'title']), stored);
    expect(r('From: jane.doe@example.com, JANE.DOE@EXAMPLE.COM')).toBe(
      'From: J***@Example.com, J***@Example.com',
    );
    // regular-expression characters in a value are literal
    expect(r('I am the c++ (LEAD) dev here')).toBe('I am the C****** here');
    expect(r('C+ lead dev')).toBe('C+ lead dev');
  });

  it('finds a phone written with other separators, with or without its leading digits', () => {
    const r = maskedValueRedactor(view(['phone']), stored);
    for (const written of ['+1 555-123-4567', '15551234567', '+1 (555) 123 4567', '555.123.4567', '123-4567'])
      expect(r(`call ${written} now`), written).toBe('call +* ***-***-4567 now');
    // other numbers, and the number inside a longer one, stay
    expect(r('order 1234568 and 9123-45678')).toBe('order 1234568 and 9123-45678');
  });

  it('leaves text alone when nothing is masked or the masked field is empty', () => {
    const text = 'jane.doe@example.com +1 555-123-4567';
    expect(maskedValueRedactor(view([]), stored)(text)).toBe(text);
    expect(maskedValueRedactor(view(['note']), stored)(text)).toBe(text);
  });

  it('redacts every string of a JSON value, keys kept', () => {
    const r = maskedValueRedactor(view(['email']), stored);
    expect(
      redactStrings(
        { from: { address: 'jane.doe@example.com' }, to: ['x@y.z', 'Jane.Doe@example.com'], n: 3 },
        r,
      ),
    ).toEqual({ from: { address: 'J***@Example.com' }, to: ['x@y.z', 'J***@Example.com'], n: 3 });
  });
});
