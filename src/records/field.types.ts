/** Field and module metadata, the way Vtiger describes them; it drives storage, validation, describe and the UI. */
export const FIELD_TYPES = [
  'string',
  'text',
  'email',
  'phone',
  'url',
  'integer',
  'decimal',
  'currency',
  'date',
  'datetime',
  'boolean',
  'picklist',
  'multipicklist',
  'reference',
  'owner',
] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

/** The four fields every record has, stored on `crm_entities` rather than in the module table. */
export const SYSTEM_FIELDS = ['assigned_user_id', 'createdtime', 'modifiedtime', 'modifiedby'] as const;

export interface FieldDef {
  /** Vtiger's field name; also the column name in the module table (custom fields: `cf_<n>`) */
  name: string;
  label: string;
  type: FieldType;
  mandatory: boolean;
  /** false for values the server sets (record number, times, totals); input for them is ignored */
  editable: boolean;
  picklistValues?: readonly string[];
  /** reference: the modules the value may point to (`Users` for modifiedby) */
  refersTo?: readonly string[];
  default?: string | number | boolean;
  /** true for admin-added fields */
  custom?: boolean;
  /** where the value lives: the module table, or a column of `crm_entities` */
  storage: 'module' | 'entity';
}

export interface ModuleDef {
  name: string;
  label: string;
  singular: string;
  /** Vtiger's web-services entity id: the `N` in `NxM` record ids */
  wsEntityId: number;
  /** the module's own table; its `id` is the `crm_entities.id` */
  table: string;
  /** auto-numbered field such as contact_no → CON1, CON2… */
  numberField?: { name: string; prefix: string };
  /** fields joined with a space make the record's label */
  labelFields: readonly string[];
  fields: readonly FieldDef[];
  /** Quotes carry line items */
  hasLineItems?: boolean;
}

type FieldSpec = Omit<FieldDef, 'mandatory' | 'editable' | 'storage'> &
  Partial<Pick<FieldDef, 'mandatory' | 'editable' | 'storage'>>;

/** Short builders so module files read like Vtiger's field lists. */
export const f = {
  field: (spec: FieldSpec): FieldDef => ({ mandatory: false, editable: true, storage: 'module', ...spec }),
  string: (name: string, label: string, extra: Partial<FieldSpec> = {}) =>
    f.field({ name, label, type: 'string', ...extra }),
  text: (name: string, label: string) => f.field({ name, label, type: 'text' }),
  email: (name: string, label: string) => f.field({ name, label, type: 'email' }),
  phone: (name: string, label: string) => f.field({ name, label, type: 'phone' }),
  url: (name: string, label: string) => f.field({ name, label, type: 'url' }),
  integer: (name: string, label: string) => f.field({ name, label, type: 'integer' }),
  decimal: (name: string, label: string) => f.field({ name, label, type: 'decimal' }),
  currency: (name: string, label: string, extra: Partial<FieldSpec> = {}) =>
    f.field({ name, label, type: 'currency', ...extra }),
  date: (name: string, label: string, extra: Partial<FieldSpec> = {}) =>
    f.field({ name, label, type: 'date', ...extra }),
  boolean: (name: string, label: string) => f.field({ name, label, type: 'boolean' }),
  picklist: (name: string, label: string, values: readonly string[], extra: Partial<FieldSpec> = {}) =>
    f.field({ name, label, type: 'picklist', picklistValues: values, ...extra }),
  reference: (name: string, label: string, refersTo: readonly string[]) =>
    f.field({ name, label, type: 'reference', refersTo }),
  /** the auto-numbered record number (contact_no…), set by the server */
  number: (name: string, label: string) => f.field({ name, label, type: 'string', editable: false }),
};

/** assigned_user_id, createdtime, modifiedtime, modifiedby: on every module, stored on crm_entities. */
export function systemFields(ownerLabel = 'Assigned To'): FieldDef[] {
  const entity = { storage: 'entity' as const };
  return [
    f.field({ name: 'assigned_user_id', label: ownerLabel, type: 'owner', mandatory: true, ...entity }),
    f.field({ name: 'createdtime', label: 'Created Time', type: 'datetime', editable: false, ...entity }),
    f.field({ name: 'modifiedtime', label: 'Modified Time', type: 'datetime', editable: false, ...entity }),
    f.field({
      name: 'modifiedby',
      label: 'Last Modified By',
      type: 'reference',
      refersTo: ['Users'],
      editable: false,
      ...entity,
    }),
  ];
}
