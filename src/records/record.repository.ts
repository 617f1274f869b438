import type { Expression, Kysely, SqlBool, Transaction } from 'kysely';
import type { Db } from '../db/database.js';
import { deferrable, writeDeferred } from '../db/deferred-inserts.js';
import { prepared, preparedInsert } from '../db/prepared.js';
import type { Database } from '../db/schema.js';
import { unflushedCommit } from '../db/unflushed-commit.js';
import type { FieldDef } from './field.types.js';
import { type FieldValue, fromColumn, toColumn } from './field-coerce.js';
import type { ModuleMeta } from './module-meta.js';
import type { CrmRecord } from './record.model.js';

type Q = Kysely<Database> | Transaction<Database>;
// biome-ignore lint/suspicious/noExplicitAny: module tables are defined by metadata at run time
type AnyQ = Kysely<any>;
const untyped = (db: Q) => db as unknown as AnyQ;

/** The module's records joined to their entity rows (aliases `e` and `m`), soft-deleted ones left out. */
export function recordQuery(db: Q, meta: ModuleMeta, includeDeleted = false) {
  let q = untyped(db)
    .selectFrom('crm_entities as e')
    .innerJoin(`${meta.table} as m`, 'm.id', 'e.id')
    .where('e.module', '=', meta.name);
  if (!includeDeleted) q = q.where('e.deleted_at', 'is', null);
  return q;
}

export const ENTITY_COLUMNS = [
  'e.id as _e_id',
  'e.version as _e_version',
  'e.label as _e_label',
  'e.owner_id as _e_owner_id',
  'e.created_by as _e_created_by',
  'e.modified_by as _e_modified_by',
  'e.created_at as _e_created_at',
  'e.modified_at as _e_modified_at',
  'e.deleted_at as _e_deleted_at',
] as const;

export async function selectRecords(
  db: Q,
  meta: ModuleMeta,
  where: Expression<SqlBool>[],
  opts: {
    order?: Array<{ expr: Expression<unknown>; desc: boolean }>;
    limit?: number;
    offset?: number;
    includeDeleted?: boolean;
    /** also read each owner's role path (into `ownerRolePaths`), for a sharing check in code */
    ownerRolePaths?: Map<number, string>;
  } = {},
): Promise<CrmRecord[]> {
  let q = recordQuery(db, meta, opts.includeDeleted)
    .selectAll('m')
    .select([...ENTITY_COLUMNS]);
  if (opts.ownerRolePaths)
    q = q
      .leftJoin('users as _ou', '_ou.id', 'e.owner_id')
      .leftJoin('roles as _or', '_or.id', '_ou.role_id')
      .select('_or.path as _owner_role_path');
  for (const w of where) q = q.where(w);
  for (const o of opts.order ?? []) q = q.orderBy(o.expr, o.desc ? 'desc' : 'asc');
  if (opts.limit !== undefined) q = q.limit(opts.limit);
  if (opts.offset) q = q.offset(opts.offset);
  const rows = (await q.execute()) as Array<Record<string, unknown>>;
  return rowsToRecords(db, meta, rows, opts.ownerRolePaths);
}

/** Rows of a record query (ENTITY_COLUMNS and `m.*`) as records, dead references cleared. */
export function rowsToRecords(
  db: Q,
  meta: ModuleMeta,
  rows: Array<Record<string, unknown>>,
  ownerRolePaths: Map<number, string> | undefined,
): Promise<CrmRecord[]> {
  if (ownerRolePaths)
    for (const r of rows) ownerRolePaths.set(Number(r._e_id), String(r._owner_role_path ?? ''));
  return clearDeadReferences(
    db,
    meta,
    rows.map((r) => toRecord(meta, r)),
  );
}

/** Module-table reference fields per (frozen) metadata object. Memo only: keys are held weakly. */
const refFieldsOf = new WeakMap<ModuleMeta, FieldDef[]>();

/** A reference to a deleted record reads as empty, as in Vtiger (one query per page, only if needed). */
async function clearDeadReferences(db: Q, meta: ModuleMeta, recs: CrmRecord[]): Promise<CrmRecord[]> {
  let refFields = refFieldsOf.get(meta);
  if (!refFields) {
    refFields = meta.fields.filter((f) => f.type === 'reference' && f.storage === 'module');
    refFieldsOf.set(meta, refFields);
  }
  const ids = new Set<number>();
  for (const r of recs)
    for (const f of refFields) if (typeof r.fields[f.name] === 'number') ids.add(r.fields[f.name] as number);
  if (ids.size === 0) return recs;
  const live = new Set((await liveEntities(db, [...ids])).map((e) => e.id));
  for (const r of recs)
    for (const f of refFields) {
      const v = r.fields[f.name];
      if (typeof v === 'number' && !live.has(v)) r.fields[f.name] = null;
    }
  return recs;
}

export async function countRecords(db: Q, meta: ModuleMeta, where: Expression<SqlBool>[]): Promise<number> {
  let q = recordQuery(db, meta).select((eb) => eb.fn.countAll().as('n'));
  for (const w of where) q = q.where(w);
  const row = (await q.executeTakeFirstOrThrow()) as { n: number | string };
  return Number(row.n);
}

function toRecord(meta: ModuleMeta, r: Record<string, unknown>): CrmRecord {
  const n = (k: string) => Number(r[k]);
  const fields: Record<string, FieldValue> = {};
  for (const field of meta.fields) {
    if (field.storage === 'module') fields[field.name] = fromColumn(field, r[field.name]);
  }
  fields.assigned_user_id = n('_e_owner_id');
  fields.createdtime = n('_e_created_at');
  fields.modifiedtime = n('_e_modified_at');
  fields.modifiedby = n('_e_modified_by');
  return {
    id: n('_e_id'),
    module: meta.name,
    version: n('_e_version'),
    label: String(r._e_label),
    ownerId: n('_e_owner_id'),
    createdBy: n('_e_created_by'),
    modifiedBy: n('_e_modified_by'),
    createdAt: n('_e_created_at'),
    modifiedAt: n('_e_modified_at'),
    deletedAt: r._e_deleted_at === null ? null : n('_e_deleted_at'),
    fields,
  };
}

/** Module-table columns for the given domain values (entity fields are skipped). */
export function moduleColumns(
  meta: ModuleMeta,
  values: ReadonlyMap<string, FieldValue>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, v] of values) {
    const field = meta.fieldMap.get(name);
    if (field?.storage === 'module') out[name] = toColumn(field, v);
  }
  return out;
}

const insertEntityRows = preparedInsert(
  'crm_entities',
  [
    'module',
    'owner_id',
    'created_by',
    'modified_by',
    'created_at',
    'modified_at',
    'deleted_at',
    'version',
    'label',
  ],
  { returningId: true },
);

/** Takes the module's next number: the sequence row's value goes up by one, and the row comes back. */
const numberUpdate = (db: Kysely<Database> | Transaction<Database>, module: string) =>
  db
    .updateTable('record_sequences')
    .set((eb) => ({ next_value: eb('next_value', '+', 1) }))
    .where('module', '=', module);

const takeNumber = prepared((db, module: string) =>
  numberUpdate(db, module).returning(['prefix', 'next_value']),
);

/**
 * The same, for a statement that is its own transaction on PostgreSQL: `set_config(…, true)` turns
 * `synchronous_commit` off for that one implicit transaction (the connection's setting stays on). Every
 * create of a module updates this one row, and its lock lasts until the statement commits: with a flushed
 * commit that is a WAL flush, 270–540 µs on this machine against 75–115 µs without, and creates queued
 * behind it one flush at a time. Not flushing it loses nothing that matters: a record using the number
 * commits later with a flushed commit, and that flush writes out every WAL record before it, this increment
 * included. A crash can only lose an increment whose number no committed record holds; it is handed out again.
 */
const takeNumberUnflushed = prepared((db, module: string) =>
  numberUpdate(db, module).where(unflushedCommit).returning(['prefix', 'next_value']),
);

const formatNumber = (row: { prefix: string; next_value: number | string } | undefined) =>
  row ? `${row.prefix}${Number(row.next_value) - 1}` : null;

/** The module's next record number (`CON42`) inside the caller's transaction, or null for a module without numbers. */
export async function nextRecordNumber(trx: Transaction<Database>, module: string): Promise<string | null> {
  return formatNumber((await takeNumber(trx, module)).rows[0]);
}

/**
 * The module's next record number (`CON42`) in a statement of its own, before the write that uses it (the
 * sequence row's lock then lasts one statement, not the write's transaction); null for a module without
 * numbers.
 */
export async function takeRecordNumber(db: Db, module: string): Promise<string | null> {
  const take = db.dialect === 'postgres' ? takeNumberUnflushed : takeNumber;
  return formatNumber((await take(db.kysely, module)).rows[0]);
}

/**
 * The number a create takes before its write, or undefined when the write takes it in its own transaction
 * (`nextRecordNumber`). PostgreSQL: before, in a statement of its own, so creates of a module do not queue
 * behind each other's transactions for the sequence row. SQLite: in the write, since it has one writer and
 * the group commit's batch holds the write lock anyway; a statement of its own was one more write
 * transaction per create, which also had to wait for the batch in flight to commit before it could start
 * (one connection), so the create joined the batch after next.
 */
export async function takeRecordNumberAhead(db: Db, module: string): Promise<string | null | undefined> {
  return db.dialect === 'postgres' ? takeRecordNumber(db, module) : undefined;
}

export async function insertRecord(
  trx: Transaction<Database>,
  meta: ModuleMeta,
  entity: { ownerId: number; userId: number; now: number; label: string },
  columns: Record<string, unknown>,
): Promise<number> {
  const [id] = await insertEntityRows(trx, [
    {
      module: meta.name,
      owner_id: entity.ownerId,
      created_by: entity.userId,
      modified_by: entity.userId,
      created_at: entity.now,
      modified_at: entity.now,
      deleted_at: null,
      version: 1,
      label: entity.label,
    },
  ]);
  if (id === undefined) throw new Error('inserting a record returned no id');
  // nothing reads this row back in the transaction before its next statement: it may go along with that
  await trx.executeQuery(
    deferrable(
      untyped(trx)
        .insertInto(meta.table)
        .values({ ...columns, id })
        .compile(),
      meta.table,
    ),
  );
  return id;
}

/** Bumps the version only if it is still `version`; false when someone else wrote first. */
export async function updateEntity(
  trx: Transaction<Database>,
  id: number,
  version: number,
  set: { ownerId?: number; userId: number; now: number; label?: string; deletedAt?: number },
): Promise<boolean> {
  const res = await trx
    .updateTable('crm_entities')
    .set({
      version: version + 1,
      modified_by: set.userId,
      modified_at: set.now,
      ...(set.ownerId !== undefined ? { owner_id: set.ownerId } : {}),
      ...(set.label !== undefined ? { label: set.label } : {}),
      ...(set.deletedAt !== undefined ? { deleted_at: set.deletedAt } : {}),
    })
    .where('id', '=', id)
    .where('version', '=', version)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

export async function updateModuleRow(
  trx: Transaction<Database>,
  meta: ModuleMeta,
  id: number,
  columns: Record<string, unknown>,
): Promise<void> {
  if (Object.keys(columns).length === 0) return;
  // the entity row's versioned update came first and answered for the change: nothing reads this one's result
  await writeDeferred(trx, untyped(trx).updateTable(meta.table).set(columns).where('id', '=', id));
}

/** Which of `ids` are live records of one of `modules` (for reference checks). */
export async function liveEntities(
  db: Q,
  ids: number[],
): Promise<Array<{ id: number; module: string; owner_id: number }>> {
  if (ids.length === 0) return [];
  return db
    .selectFrom('crm_entities')
    .select(['id', 'module', 'owner_id'])
    .where('id', 'in', ids)
    .where('deleted_at', 'is', null)
    .execute();
}

/** The module of each of `ids`, deleted records included. */
export function moduleOfIds(db: Q, ids: number[]): Promise<Array<{ id: number; module: string }>> {
  return db.selectFrom('crm_entities').select(['id', 'module']).where('id', 'in', ids).execute();
}

/** One record's module, owner and owner's role path, deleted or not (for checks on its history). */
export function entityWithOwnerRole(db: Q, id: number) {
  return db
    .selectFrom('crm_entities as e')
    .leftJoin('users as u', 'u.id', 'e.owner_id')
    .leftJoin('roles as r', 'r.id', 'u.role_id')
    .select(['e.id', 'e.module', 'e.owner_id', 'r.path'])
    .where('e.id', '=', id)
    .executeTakeFirst();
}
