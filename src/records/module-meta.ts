import type { Kysely, Transaction } from 'kysely';
import type { AppContext } from '../context.js';
import type { Database } from '../db/schema.js';
import { FIELD_TYPES, type FieldDef, type FieldType, type ModuleDef } from './field.types.js';
import { STANDARD_MODULES, standardModule } from './modules/index.js';
import { recordError } from './record.errors.js';

type Q = Kysely<Database> | Transaction<Database>;

/** A module as it is now: the standard definition plus the admin-added custom fields. */
export interface ModuleMeta extends ModuleDef {
  fieldMap: ReadonlyMap<string, FieldDef>;
}

export function isModuleName(name: string): boolean {
  return standardModule(name) !== undefined;
}

function withFields(def: ModuleDef, custom: FieldDef[]): ModuleMeta {
  // frozen: a cached ModuleMeta is shared by concurrent requests, so nobody may change it in place
  const fields = Object.freeze([...def.fields, ...custom.map((f) => Object.freeze(f))]) as FieldDef[];
  return Object.freeze({ ...def, fields, fieldMap: new Map(fields.map((x) => [x.name, x])) });
}

function toFieldDef(row: {
  name: string;
  label: string;
  type: string;
  mandatory: number | boolean;
  picklist_values: string;
  refers_to: string;
}): FieldDef {
  const type = (FIELD_TYPES as readonly string[]).includes(row.type) ? (row.type as FieldType) : 'string';
  const picklistValues = JSON.parse(row.picklist_values) as string[];
  const refersTo = JSON.parse(row.refers_to) as string[];
  return {
    name: row.name,
    label: row.label,
    type,
    mandatory: Boolean(row.mandatory),
    editable: true,
    custom: true,
    storage: 'module',
    ...(picklistValues.length ? { picklistValues } : {}),
    ...(refersTo.length ? { refersTo } : {}),
  };
}

/** The module's metadata with its custom fields, or MODULE_NOT_FOUND. Read per call: another replica may add fields. */
export async function loadModuleMeta(db: Q, name: string): Promise<ModuleMeta> {
  const def = standardModule(name);
  if (!def) throw recordError('MODULE_NOT_FOUND', `There is no module "${name}".`);
  const rows = await db
    .selectFrom('record_custom_fields')
    .select(['name', 'label', 'type', 'mandatory', 'picklist_values', 'refers_to'])
    .where('module', '=', name)
    .orderBy('id')
    .execute();
  return withFields(def, rows.map(toFieldDef));
}

/**
 * `loadModuleMeta` served from the auth cache while fresh. Adding a custom field clears the cache on this
 * process; other replicas see the field when they hear of it (NOTIFY, or their next poll of the auth version).
 */
export async function moduleMetaFor(ctx: AppContext, name: string): Promise<ModuleMeta> {
  return ctx.authCache.moduleThrough(name, ctx.db.kysely, () => loadModuleMeta(ctx.db.kysely, name));
}

export async function listModuleMetas(db: Q): Promise<ModuleMeta[]> {
  const rows = await db.selectFrom('record_custom_fields').selectAll().orderBy('id').execute();
  return STANDARD_MODULES.map((def) =>
    withFields(def, rows.filter((r) => r.module === def.name).map(toFieldDef)),
  );
}

/** The module whose web-services entity id is `wsEntityId` (the `N` of `NxM`). */
export function moduleByWsEntityId(wsEntityId: number): ModuleDef | undefined {
  return STANDARD_MODULES.find((m) => m.wsEntityId === wsEntityId);
}

/** Service functions take a module name, or metadata the caller already loaded (saves a query per request). */
export type ModuleRef = string | ModuleMeta;

export function resolveModule(db: Q, ref: ModuleRef): Promise<ModuleMeta> {
  return typeof ref === 'string' ? loadModuleMeta(db, ref) : Promise.resolve(ref);
}
