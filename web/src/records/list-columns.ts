import { useState } from 'react';
import { type FieldView, LIST_TYPES, type ModuleDescription } from './record-types';

/** The columns a sales team expects per module, besides the name (Vtiger's default list views, trimmed). */
export const DEFAULT_COLUMNS: Record<string, string[]> = {
  Contacts: ['account_id', 'email', 'phone', 'assigned_user_id'],
  Accounts: ['bill_city', 'phone', 'website', 'assigned_user_id'],
  Leads: ['company', 'email', 'phone', 'leadstatus', 'assigned_user_id'],
  Potentials: ['related_to', 'sales_stage', 'amount', 'closingdate', 'assigned_user_id'],
  HelpDesk: ['ticket_no', 'ticketstatus', 'ticketpriorities', 'parent_id', 'assigned_user_id'],
  Quotes: ['quotestage', 'account_id', 'hdnGrandTotal', 'validtill', 'assigned_user_id'],
  Products: ['productcode', 'productcategory', 'unit_price', 'qtyinstock'],
};

/** Up to five columns besides the name: the module's defaults, else one of each useful type. */
export function defaultColumns(meta: ModuleDescription): string[] {
  const known = DEFAULT_COLUMNS[meta.name]?.filter((n) => meta.fields.some((f) => f.name === n));
  if (known?.length) return known;
  const candidates = meta.fields.filter(
    (f) => !meta.labelFields.includes(f.name) && LIST_TYPES.has(f.type) && !f.name.endsWith('_no'),
  );
  const picked: string[] = [];
  for (const type of LIST_TYPES) {
    const f = candidates.find((c) => c.type === type);
    if (f) picked.push(f.name);
  }
  return picked.slice(0, 5);
}

/** Fields that can be a column (everything but the name, which is always the first column). */
export function columnChoices(meta: ModuleDescription): FieldView[] {
  return meta.fields.filter((f) => !meta.labelFields.includes(f.name) && f.type !== 'text');
}

const storageKey = (userId: number, module: string) => `rapport.columns.${userId}.${module}`;

/** The user's chosen columns for a module, kept in this browser; the defaults until they choose. */
export function useColumns(meta: ModuleDescription, userId: number) {
  const [chosen, setChosen] = useState<string[] | null>(() => {
    try {
      const raw = localStorage.getItem(storageKey(userId, meta.name));
      const parsed = raw ? (JSON.parse(raw) as unknown) : null;
      return Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === 'string') : null;
    } catch {
      return null;
    }
  });
  const names = (chosen ?? defaultColumns(meta)).filter((n) => meta.fields.some((f) => f.name === n));
  const save = (next: string[] | null) => {
    setChosen(next);
    try {
      if (next) localStorage.setItem(storageKey(userId, meta.name), JSON.stringify(next));
      else localStorage.removeItem(storageKey(userId, meta.name));
    } catch {
      // private mode: the choice lasts for this page only
    }
  };
  const columns = names.map((n) => meta.fields.find((f) => f.name === n)!);
  return { columns, names, isDefault: chosen === null, save };
}
