import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { contactsModule } from './contacts.module.js';

/** Vtiger 8.2's own describe of Contacts, captured on the wire; our metadata must say the same. */
const capture = JSON.parse(
  fs.readFileSync(
    path.resolve(import.meta.dirname, '../../../test/fixtures/vtiger-wire/04-describe-Contacts.json'),
    'utf8',
  ),
) as { response: { json: { result: { idPrefix: string; labelFields: string; fields: VtigerField[] } } } };

interface VtigerField {
  name: string;
  label: string;
  mandatory: boolean;
  type: { name: string; refersTo?: string[]; picklistValues?: Array<{ value: string }> };
}

// Vtiger types we store differently: image uploads are not supported; the id is not a field here
const LEFT_OUT = new Set(['imagename', 'id']);

it('describes Contacts with the field names, labels, order, types and mandatory flags of Vtiger 8', () => {
  const theirs = capture.response.json.result.fields.filter((x) => !LEFT_OUT.has(x.name));
  const ours = contactsModule.fields;
  expect(ours.map((x) => x.name)).toEqual(theirs.map((x) => x.name));
  for (const t of theirs) {
    const o = ours.find((x) => x.name === t.name)!;
    expect({ name: o.name, label: o.label, mandatory: o.mandatory, type: o.type }).toEqual({
      name: t.name,
      label: t.label,
      mandatory: t.mandatory,
      type: t.type.name,
    });
    if (t.type.refersTo) expect([...(o.refersTo ?? [])]).toEqual(t.type.refersTo);
    if (t.type.picklistValues)
      expect([...(o.picklistValues ?? [])]).toEqual(t.type.picklistValues.map((p) => p.value));
  }
  expect(String(contactsModule.wsEntityId)).toBe(capture.response.json.result.idPrefix);
  expect(contactsModule.labelFields.join(',')).toBe(capture.response.json.result.labelFields);
});
