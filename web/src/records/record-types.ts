/** Shapes of the records API (`/api/v1/modules`, `/api/v1/records/{module}`). */
export interface ModuleSummary {
  name: string;
  label: string;
  singular: string;
  createable: boolean;
  updateable: boolean;
  deleteable: boolean;
  retrieveable: boolean;
}

export interface FieldView {
  name: string;
  label: string;
  type: string;
  mandatory: boolean;
  editable: boolean;
  custom?: boolean;
  picklistValues?: string[];
  refersTo?: string[];
  default?: string | number | boolean;
  /** masked for you: values are placeholders (see Settings → Masking) */
  masked?: boolean;
}

export interface ModuleDescription extends ModuleSummary {
  labelFields: string[];
  hasLineItems: boolean;
  fields: FieldView[];
  /** your profile grants Unmask: you may reveal one masked value at a time (audited) */
  mayReveal?: boolean;
}

export type RestRecord = { id: number; version: number; label: string } & Record<string, unknown>;

export interface RecordPage {
  items: RestRecord[];
  nextCursor: string | null;
  total?: number;
}

/** Fields the server fills in; shown on the record, never in the form. */
export const SYSTEM_FIELDS = new Set(['createdtime', 'modifiedtime', 'modifiedby']);

/** Types worth a column in the list, in the order they are picked. */
export const LIST_TYPES = new Set(['email', 'phone', 'picklist', 'currency', 'date', 'owner', 'string']);
