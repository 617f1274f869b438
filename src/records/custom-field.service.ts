import { sql } from 'kysely';
import type { AuditActor } from '../audit/audit.repository.js';
import type { AppContext } from '../context.js';
import { columnTypes } from '../db/columns.js';
import { withUnitOfWork } from '../db/unit-of-work.js';
import type { FieldDef, FieldType } from './field.types.js';
import { fieldColumnType } from './field-columns.js';
import { loadModuleMeta } from './module-meta.js';
import { STANDARD_MODULES } from './modules/index.js';
import { recordError } from './record.errors.js';

const MAX_CUSTOM_FIELDS = 100;

export interface NewCustomField {
  label: string;
  type: Exclude<FieldType, 'owner'>;
  mandatory?: boolean;
  picklistValues?: string[];
  refersTo?: string[];
}

function checkShape(input: NewCustomField): { picklist: string[]; refersTo: string[] } {
  const isList = input.type === 'picklist' || input.type === 'multipicklist';
  const picklist = isList ? [...new Set((input.picklistValues ?? []).map((v) => v.trim()))] : [];
  if (isList && (picklist.length === 0 || picklist.some((v) => v === '' || v.includes('|##|'))))
    throw recordError(
      'CUSTOM_FIELD_INVALID',
      'A picklist needs picklistValues: non-empty values without "|##|".',
    );
  if (!isList && input.picklistValues?.length)
    throw recordError('CUSTOM_FIELD_INVALID', 'Only picklist and multipicklist fields take picklistValues.');
  const refersTo = input.type === 'reference' ? [...new Set(input.refersTo ?? [])] : [];
  if (input.type === 'reference') {
    const unknown = refersTo.find((m) => !STANDARD_MODULES.some((s) => s.name === m));
    if (refersTo.length === 0 || unknown !== undefined)
      throw recordError(
        'CUSTOM_FIELD_INVALID',
        unknown
          ? `refersTo: there is no module "${unknown}".`
          : 'A reference field needs refersTo: the modules it may point to.',
      );
  } else if (input.refersTo?.length) {
    throw recordError('CUSTOM_FIELD_INVALID', 'Only reference fields take refersTo.');
  }
  return { picklist, refersTo };
}

/**
 * Adds a custom field: a metadata row and a real `cf_<n>` column on the module's table
 * (`ALTER TABLE … ADD COLUMN`, transactional on both databases), audited in the same transaction.
 */
export async function addCustomField(
  ctx: AppContext,
  module: string,
  input: NewCustomField,
  actor: AuditActor,
): Promise<FieldDef> {
  const meta = await loadModuleMeta(ctx.db.kysely, module);
  const { picklist, refersTo } = checkShape(input);
  if (meta.fields.filter((x) => x.custom).length >= MAX_CUSTOM_FIELDS)
    throw recordError('CUSTOM_FIELD_LIMIT', `${meta.label} already has ${MAX_CUSTOM_FIELDS} custom fields.`);
  const name = await withUnitOfWork(ctx, actor, async (uow) => {
    const { trx, now } = uow;
    // cached module metadata (and the rest of the auth cache) is read afresh once this commits
    uow.invalidatesAuth();
    const { id } = await trx
      .insertInto('record_custom_fields')
      .values({
        module: meta.name,
        name: `pending_${now}_${Math.random().toString(36).slice(2)}`,
        label: input.label,
        type: input.type,
        mandatory: +(input.mandatory ?? false),
        picklist_values: JSON.stringify(picklist),
        refers_to: JSON.stringify(refersTo),
        created_at: now,
        created_by: actor.userId,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const name = `cf_${id}`;
    await trx.updateTable('record_custom_fields').set({ name }).where('id', '=', id).execute();
    const colType = fieldColumnType(columnTypes(ctx.db.dialect), input.type);
    await sql`alter table ${sql.table(meta.table)} add column ${sql.ref(name)} ${sql.raw(colType)}`.execute(
      trx,
    );
    await uow.audit({
      action: 'record.custom_field.created',
      target: { type: 'module', id: meta.name },
      details: { name, label: input.label, type: input.type, mandatory: input.mandatory ?? false },
    });
    return name;
  });
  const after = await loadModuleMeta(ctx.db.kysely, meta.name);
  return after.fieldMap.get(name)!;
}
