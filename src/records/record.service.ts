import { sql } from 'kysely';
import type { AppContext } from '../context.js';
import { type Principal, scopeAllows } from '../roles/permissions.js';
import type { FieldValue } from './field-coerce.js';
import { type ModuleMeta, type ModuleRef, resolveModule } from './module-meta.js';
import type { CheckedLineItem } from './quote-line-items.js';
import { lineNets, replaceLineItems } from './quote-line-items.repository.js';
import { lineItemsInput, resolveLineItems, withLineItems, writeTotals } from './quote-line-items.service.js';
import { recordError } from './record.errors.js';
import type { CrmRecord } from './record.model.js';
import {
  insertRecord,
  moduleColumns,
  nextRecordNumber,
  selectRecords,
  updateEntity,
  updateModuleRow,
} from './record.repository.js';
import { checkOwner, checkReferences, requireModule, scopeFor } from './record-access.js';
import { selectRecordById } from './record-by-id.repository.js';
import { assertMandatory, type InputMode, parseRecordInput, recordLabel } from './record-input.js';
import { scopeCondition } from './record-scope.js';

/** Reads one record without a sharing check (after a write the caller made). */
async function readBack(ctx: AppContext, meta: ModuleMeta, id: number): Promise<CrmRecord> {
  const rec = await selectRecordById(ctx.db.kysely, meta, id, new Map());
  return withLineItems(ctx, meta, [rec!]).then((r) => r[0]!);
}

/** A record the caller may see for `action`, or 404 (not found and not visible look the same). */
async function findVisible(ctx: AppContext, p: Principal, meta: ModuleMeta, id: number): Promise<CrmRecord> {
  const scope = await scopeFor(ctx, p, meta.name, 'view');
  // one record by primary key: read it with its owner's role path and apply the sharing rule in code
  const paths = new Map<number, string>();
  const rec = await selectRecordById(ctx.db.kysely, meta, id, paths);
  if (!rec || !scopeAllows(scope, { ownerId: rec.ownerId, ownerRolePath: paths.get(rec.id) ?? '' }))
    throw recordError('RECORD_NOT_FOUND', `There is no ${meta.singular} ${id}.`);
  return rec;
}

async function requireRecordAction(
  ctx: AppContext,
  p: Principal,
  meta: ModuleMeta,
  rec: CrmRecord,
  action: 'edit' | 'delete',
) {
  const scope = scopeCondition(await scopeFor(ctx, p, meta.name, action));
  if (!scope) return;
  const [ok] = await selectRecords(ctx.db.kysely, meta, [sql`e.id = ${rec.id}`, scope]);
  if (!ok)
    throw recordError('RECORD_PERMISSION_DENIED', `You may see this ${meta.singular} but not ${action} it.`);
}

export async function createRecord(
  ctx: AppContext,
  p: Principal,
  module: ModuleRef,
  input: Record<string, unknown>,
): Promise<CrmRecord> {
  const meta = await resolveModule(ctx.db.kysely, module);
  requireModule(p, meta, 'create');
  const values = parseRecordInput(meta, input, 'create');
  if (values.get('assigned_user_id') == null) values.set('assigned_user_id', p.userId);
  assertMandatory(meta, values);
  const ownerId = values.get('assigned_user_id') as number;
  await checkOwner(ctx.db.kysely, ownerId);
  await checkReferences(ctx.db.kysely, p, meta, values);
  const rawItems = lineItemsInput(input);
  const items = meta.hasLineItems && rawItems !== undefined ? await resolveLineItems(ctx, p, rawItems) : [];
  const now = ctx.clock.now();
  const id = await ctx.db.kysely.transaction().execute(async (trx) => {
    if (meta.numberField) values.set(meta.numberField.name, await nextRecordNumber(trx, meta.name));
    const columns = moduleColumns(meta, values);
    const id = await insertRecord(
      trx,
      meta,
      { ownerId, userId: p.userId, now, label: recordLabel(meta, values) },
      columns,
    );
    if (meta.hasLineItems) await writeTotals(trx, meta, id, values, await replaceLineItems(trx, id, items));
    return id;
  });
  return readBack(ctx, meta, id);
}

export async function getRecord(
  ctx: AppContext,
  p: Principal,
  module: ModuleRef,
  id: number,
): Promise<CrmRecord> {
  const meta = await resolveModule(ctx.db.kysely, module);
  requireModule(p, meta, 'view');
  const rec = await findVisible(ctx, p, meta, id);
  return (await withLineItems(ctx, meta, [rec]))[0]!;
}

export interface UpdateOptions {
  /** the version the caller read; a different current version is a VERSION_CONFLICT */
  version?: number;
  /** partial: only the fields given change (REST PATCH, revise); full: every mandatory field must be given (update) */
  mode?: Exclude<InputMode, 'create'>;
}

export async function updateRecord(
  ctx: AppContext,
  p: Principal,
  module: ModuleRef,
  id: number,
  input: Record<string, unknown>,
  opts: UpdateOptions = {},
): Promise<CrmRecord> {
  const meta = await resolveModule(ctx.db.kysely, module);
  requireModule(p, meta, 'edit');
  const existing = await findVisible(ctx, p, meta, id);
  await requireRecordAction(ctx, p, meta, existing, 'edit');
  assertVersion(meta, existing, opts.version);
  const changes = parseRecordInput(meta, input, opts.mode ?? 'partial');
  const merged = new Map<string, FieldValue>([...Object.entries(existing.fields), ...changes]);
  if (merged.get('assigned_user_id') == null) merged.set('assigned_user_id', existing.ownerId);
  assertMandatory(meta, merged);
  const ownerId = merged.get('assigned_user_id') as number;
  if (ownerId !== existing.ownerId) await checkOwner(ctx.db.kysely, ownerId);
  await checkReferences(ctx.db.kysely, p, meta, changes);
  const rawItems = lineItemsInput(input);
  const items =
    meta.hasLineItems && rawItems !== undefined ? await resolveLineItems(ctx, p, rawItems) : undefined;
  await ctx.db.kysely.transaction().execute(async (trx) => {
    const now = ctx.clock.now();
    const wrote = await updateEntity(trx, id, existing.version, {
      ownerId,
      userId: p.userId,
      now,
      label: recordLabel(meta, merged),
    });
    if (!wrote) throw versionConflict(meta);
    await updateModuleRow(trx, meta, id, moduleColumns(meta, changes));
    if (meta.hasLineItems) {
      const nets = items
        ? await replaceLineItems(trx, id, items as Array<CheckedLineItem & { listprice: number }>)
        : await lineNets(trx, id);
      await writeTotals(trx, meta, id, merged, nets);
    }
  });
  return readBack(ctx, meta, id);
}

function versionConflict(meta: ModuleMeta) {
  return recordError(
    'VERSION_CONFLICT',
    `This ${meta.singular} was changed by someone else; read it again and retry.`,
  );
}

function assertVersion(meta: ModuleMeta, rec: CrmRecord, version: number | undefined) {
  if (version !== undefined && version !== rec.version) throw versionConflict(meta);
}

export async function deleteRecord(
  ctx: AppContext,
  p: Principal,
  module: ModuleRef,
  id: number,
  opts: { version?: number } = {},
): Promise<void> {
  const meta = await resolveModule(ctx.db.kysely, module);
  requireModule(p, meta, 'delete');
  const existing = await findVisible(ctx, p, meta, id);
  await requireRecordAction(ctx, p, meta, existing, 'delete');
  assertVersion(meta, existing, opts.version);
  await ctx.db.kysely.transaction().execute(async (trx) => {
    const now = ctx.clock.now();
    if (!(await updateEntity(trx, id, existing.version, { userId: p.userId, now, deletedAt: now })))
      throw versionConflict(meta);
  });
}
