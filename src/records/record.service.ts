import type { AppContext } from '../context.js';
import { contextWithin, type UnitOfWork, withUnitOfWork } from '../db/unit-of-work.js';
import { type FieldValue, fromColumn, toColumn } from './field-coerce.js';
import { type ModuleMeta, type ModuleRef, resolveModule } from './module-meta.js';
import { replaceLineItems, selectLineItems } from './quote-line-items.repository.js';
import { lineItemsInput, resolveLineItems, writeTotals } from './quote-line-items.service.js';
import { recordError } from './record.errors.js';
import type { CrmRecord, LineItem } from './record.model.js';
import {
  insertEntity,
  insertModuleRow,
  moduleColumns,
  updateEntity,
  updateModuleRow,
} from './record.repository.js';
import { checkOwner, checkReferences, requireModule } from './record-access.js';
import type { RecordWriter } from './record-change.model.js';
import { creationChanges, diffRecords, logRecordChanges } from './record-change-log.js';
import { assertMandatory, type InputMode, parseRecordInput, recordLabel } from './record-input.js';
import {
  moduleViewFor,
  type PresentedRecord,
  presentRecord,
  withMaskedPlaceholdersKept,
} from './record-presenter.js';
import { findVisible, requireRecordAction } from './record-read.service.js';

/**
 * The one way records change. Every write runs in a unit of work (the caller's, when given: a mailroom
 * message or a lead conversion is one change) and leaves a history row, a domain event and an audit entry
 * in the same transaction. Reads and checks happen before the transaction, which stays short.
 */
export interface WriteOptions {
  /** join this unit of work instead of starting one */
  uow?: UnitOfWork;
}

/**
 * The record as it is stored after a write, built from the values written rather than read back. Each value
 * goes through the column conversion and back, so it equals what a read returns.
 */
function storedRecord(
  meta: ModuleMeta,
  values: ReadonlyMap<string, FieldValue>,
  entity: Omit<CrmRecord, 'fields' | 'module' | 'lineItems'>,
  lineItems: LineItem[] | undefined,
): CrmRecord {
  const fields: Record<string, FieldValue> = {};
  for (const f of meta.fields)
    if (f.storage === 'module') fields[f.name] = fromColumn(f, toColumn(f, values.get(f.name) ?? null));
  fields.assigned_user_id = entity.ownerId;
  fields.createdtime = entity.createdAt;
  fields.modifiedtime = entity.modifiedAt;
  fields.modifiedby = entity.modifiedBy;
  return { ...entity, module: meta.name, fields, ...(lineItems ? { lineItems } : {}) };
}

/** The owner must be an active user; a signed-in writer is one, so assigning to themselves needs no lookup. */
async function checkOwnerFor(ctx: AppContext, w: RecordWriter, ownerId: number): Promise<void> {
  if (w.signedIn && ownerId === w.principal.userId) return;
  await checkOwner(ctx.db.kysely, ownerId);
}

export async function createRecord(
  appCtx: AppContext,
  w: RecordWriter,
  module: ModuleRef,
  input: Record<string, unknown>,
  opts: WriteOptions = {},
): Promise<PresentedRecord> {
  const ctx = contextWithin(appCtx, opts.uow);
  const p = w.principal;
  const meta = await resolveModule(ctx.db.kysely, module);
  requireModule(p, meta, 'create');
  const view = await moduleViewFor(ctx, p, meta);
  // a masked placeholder copied into a new record is not a value: the field is left empty
  const kept = withMaskedPlaceholdersKept(view, null, input);
  const values = parseRecordInput(meta, kept.input, 'create');
  if (values.get('assigned_user_id') == null) values.set('assigned_user_id', p.userId);
  assertNoMandatoryPlaceholder(meta, values, kept.dropped);
  assertMandatory(meta, values);
  const ownerId = values.get('assigned_user_id') as number;
  await checkOwnerFor(ctx, w, ownerId);
  await checkReferences(ctx.db.kysely, p, meta, values);
  const rawItems = lineItemsInput(input);
  const items = meta.hasLineItems && rawItems !== undefined ? await resolveLineItems(ctx, p, rawItems) : [];
  const rec = await withUnitOfWork(
    ctx,
    w.actor,
    async (uow) => {
      const { trx, now } = uow;
      const label = recordLabel(meta, values);
      const { id, number } = await insertEntity(trx, meta, { ownerId, userId: p.userId, now, label });
      if (meta.numberField) values.set(meta.numberField.name, number);
      await insertModuleRow(trx, meta, id, moduleColumns(meta, values));
      let lines: LineItem[] | undefined;
      if (meta.hasLineItems) {
        lines = await replaceLineItems(trx, id, items);
        for (const [k, v] of await writeTotals(trx, meta, id, values, lines)) values.set(k, v);
      }
      const entity = {
        id,
        version: 1,
        label,
        ownerId,
        createdBy: p.userId,
        modifiedBy: p.userId,
        createdAt: now,
        modifiedAt: now,
        deletedAt: null,
      };
      const rec = storedRecord(meta, values, entity, lines);
      await logRecordChanges(uow, w, meta, [
        { action: 'created', record: rec, changes: creationChanges(meta, rec) },
      ]);
      return rec;
    },
    opts.uow,
  );
  return presentRecord(view, rec);
}

/** A mandatory field sent only as its masked placeholder: say why the value does not count. */
function assertNoMandatoryPlaceholder(
  meta: ModuleMeta,
  values: ReadonlyMap<string, FieldValue>,
  dropped: readonly string[],
): void {
  const f = dropped.map((n) => meta.fieldMap.get(n)).find((f) => f?.mandatory && values.get(f.name) == null);
  if (f)
    throw recordError(
      'MANDATORY_FIELD_MISSING',
      `${f.name} (${f.label}) is mandatory, and the value sent is its masked placeholder, not a real value: give the real value.`,
      { details: { field: f.name, fields: [f.name], placeholder: true } },
    );
}

export interface UpdateOptions extends WriteOptions {
  /** the version the caller read; a different current version is a VERSION_CONFLICT */
  version?: number;
  /** partial: only the fields given change (REST PATCH, revise); full: every mandatory field must be given (update) */
  mode?: Exclude<InputMode, 'create'>;
  /** values the server itself sets, read-only to clients (a lead's `converted` flag): not client input */
  serverValues?: ReadonlyMap<string, FieldValue>;
}

export async function updateRecord(
  appCtx: AppContext,
  w: RecordWriter,
  module: ModuleRef,
  id: number,
  input: Record<string, unknown>,
  opts: UpdateOptions = {},
): Promise<PresentedRecord> {
  const ctx = contextWithin(appCtx, opts.uow);
  const p = w.principal;
  const meta = await resolveModule(ctx.db.kysely, module);
  requireModule(p, meta, 'edit');
  const existing = await findVisible(ctx, p, meta, id);
  await requireRecordAction(ctx, p, meta, existing, 'edit');
  assertVersion(meta, existing, opts.version);
  // a masked placeholder sent back never overwrites the real value
  const view = await moduleViewFor(ctx, p, meta);
  input = withMaskedPlaceholdersKept(view, existing, input).input;
  const changes = parseRecordInput(meta, input, opts.mode ?? 'partial');
  for (const [k, v] of opts.serverValues ?? []) changes.set(k, v);
  const merged = new Map<string, FieldValue>([...Object.entries(existing.fields), ...changes]);
  if (merged.get('assigned_user_id') == null) merged.set('assigned_user_id', existing.ownerId);
  assertMandatory(meta, merged);
  const ownerId = merged.get('assigned_user_id') as number;
  if (ownerId !== existing.ownerId) await checkOwnerFor(ctx, w, ownerId);
  await checkReferences(ctx.db.kysely, p, meta, changes);
  const rawItems = lineItemsInput(input);
  const items =
    meta.hasLineItems && rawItems !== undefined ? await resolveLineItems(ctx, p, rawItems) : undefined;
  const rec = await withUnitOfWork(
    ctx,
    w.actor,
    async (uow) => {
      const { trx, now } = uow;
      const label = recordLabel(meta, merged);
      const wrote = await updateEntity(trx, id, existing.version, { ownerId, userId: p.userId, now, label });
      if (!wrote) throw versionConflict(meta);
      await updateModuleRow(trx, meta, id, moduleColumns(meta, changes));
      let before = existing;
      let lines: LineItem[] | undefined;
      if (meta.hasLineItems) {
        const current = (await selectLineItems(trx, [id])).get(id) ?? [];
        before = { ...existing, lineItems: current };
        lines = items ? await replaceLineItems(trx, id, items) : current;
        for (const [k, v] of await writeTotals(trx, meta, id, merged, lines)) merged.set(k, v);
      }
      const entity = {
        ...existing,
        version: existing.version + 1,
        label,
        ownerId,
        modifiedBy: p.userId,
        modifiedAt: now,
      };
      const rec = storedRecord(meta, merged, entity, lines);
      await logRecordChanges(uow, w, meta, [
        { action: 'updated', record: rec, changes: diffRecords(meta, before, rec) },
      ]);
      return rec;
    },
    opts.uow,
  );
  return presentRecord(view, rec);
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
  appCtx: AppContext,
  w: RecordWriter,
  module: ModuleRef,
  id: number,
  opts: WriteOptions & { version?: number } = {},
): Promise<void> {
  const ctx = contextWithin(appCtx, opts.uow);
  const p = w.principal;
  const meta = await resolveModule(ctx.db.kysely, module);
  requireModule(p, meta, 'delete');
  const existing = await findVisible(ctx, p, meta, id);
  await requireRecordAction(ctx, p, meta, existing, 'delete');
  assertVersion(meta, existing, opts.version);
  await withUnitOfWork(
    ctx,
    w.actor,
    async (uow) => {
      const { trx, now } = uow;
      if (!(await updateEntity(trx, id, existing.version, { userId: p.userId, now, deletedAt: now })))
        throw versionConflict(meta);
      const lines = meta.hasLineItems ? ((await selectLineItems(trx, [id])).get(id) ?? []) : undefined;
      const rec: CrmRecord = {
        ...existing,
        version: existing.version + 1,
        modifiedBy: p.userId,
        modifiedAt: now,
        deletedAt: now,
        ...(lines ? { lineItems: lines } : {}),
      };
      await logRecordChanges(uow, w, meta, [{ action: 'deleted', record: rec, changes: {} }]);
    },
    opts.uow,
  );
}
