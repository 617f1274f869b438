import type { FieldView, ModuleDescription } from './record-types';

/** A block of a detail page or form, like Vtiger's (Contact Information, Address Information, …). */
export interface RecordSection {
  key: string;
  title: string;
  fields: FieldView[];
}

const ADDRESS =
  /^(bill|ship)_(street|city|state|code|country|pobox)$|^(mailing|other)(street|city|state|zip|country|pobox)$|^(lane|city|code|state|country|pobox)$/;
const TOTALS = new Set([
  'hdnSubTotal',
  'hdnDiscountPercent',
  'hdnDiscountAmount',
  'hdnS_H_Amount',
  'txtAdjustment',
  'pre_tax_total',
  'hdnGrandTotal',
]);
const SYSTEM = new Set(['assigned_user_id', 'createdtime', 'modifiedtime', 'modifiedby', 'source', 'tags']);
const DESCRIPTION = new Set(['description', 'solution', 'terms_conditions']);

/**
 * Groups a module's fields into sections: the main information, addresses, quote totals, descriptions,
 * custom fields and the record's bookkeeping (owner, number, times), in field order within each.
 */
export function sectionsOf(meta: ModuleDescription): RecordSection[] {
  const numberField = meta.fields.find((f) => f.name.endsWith('_no') && !f.editable)?.name;
  const groups: Record<string, FieldView[]> = {
    main: [],
    address: [],
    totals: [],
    description: [],
    custom: [],
    system: [],
  };
  for (const f of meta.fields) {
    if (f.custom) groups.custom!.push(f);
    else if (SYSTEM.has(f.name) || f.name === numberField) groups.system!.push(f);
    else if (TOTALS.has(f.name)) groups.totals!.push(f);
    else if (DESCRIPTION.has(f.name)) groups.description!.push(f);
    else if (ADDRESS.test(f.name)) groups.address!.push(f);
    else groups.main!.push(f);
  }
  const titles: Record<string, string> = {
    main: `${meta.singular} Information`,
    address: 'Address Information',
    totals: 'Totals',
    description: 'Description',
    custom: 'Custom Information',
    system: 'Record Information',
  };
  return Object.entries(groups)
    .filter(([, fields]) => fields.length > 0)
    .map(([key, fields]) => ({ key, title: titles[key]!, fields }));
}

export const isEmptyValue = (v: unknown) =>
  v === null || v === undefined || v === '' || (Array.isArray(v) && v.length === 0);
