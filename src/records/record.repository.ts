import {
  CompiledQuery,
  type Expression,
  type Kysely,
  type RawBuilder,
  type SelectQueryBuilder,
  type SqlBool,
  sql,
  type Transaction,
} from 'kysely';
import { carrier, deferrable, writeDeferred } from '../db/deferred-inserts.js';
import { literalLimit } from '../db/literal-limits.js';
import { dialectOf, insertRow, prepared, preparedInsert } from '../db/prepared.js';
import type { Database } from '../db/schema.js';
import { type LiteralEntry, literalFunction } from '../platform/object-literal.js';
import type { FieldDef } from './field.types.js';
import { columnReader, type FieldValue, toColumn } from './field-coerce.js';
import type { ModuleMeta } from './module-meta.js';
import type { CrmRecord } from './record.model.js';
import { ownedByCondition } from './record-scope.js';

type Q = Kysely<Database> | Transaction<Database>;
// biome-ignore lint/suspicious/noExplicitAny: module tables are defined by metadata at run time
type AnyQ = Kysely<any>;
const untyped = (db: Q) => db as unknown as AnyQ;

/** The module's table joined to the entity rows (aliases `e` and `m`). */
const recordsFrom = (db: Q, meta: ModuleMeta) =>
  untyped(db).selectFrom('crm_entities as e').innerJoin(`${meta.table} as m`, 'm.id', 'e.id');

/** The module's records joined to their entity rows (aliases `e` and `m`), soft-deleted ones left out. */
export function recordQuery(db: Q, meta: ModuleMeta, includeDeleted = false) {
  let q = recordsFrom(db, meta).where('e.module', '=', meta.name);
  if (!includeDeleted) q = q.where('e.deleted_at', 'is', null);
  return q;
}

/** The entity row's columns a record is read from, in the order the SQLite JSON array carries them. */
const ENTITY_COLUMNS = [
  'id',
  'version',
  'label',
  'owner_id',
  'created_by',
  'modified_by',
  'created_at',
  'modified_at',
  'deleted_at',
] as const;
type EntityColumn = (typeof ENTITY_COLUMNS)[number];
/** The names they are selected as where a row keeps its columns (PostgreSQL). */
const ENTITY_ALIASES = ENTITY_COLUMNS.map((c) => `_e_${c}` as const);

/** Values per `json_array`: SQLite allowed a function 127 arguments before 3.48 (1,000 since). */
const JSON_ARRAY_VALUES = 100;

/** The module table's columns that records are read from, in the metadata's order. */
const moduleFieldsOf = new WeakMap<ModuleMeta, FieldDef[]>();

function moduleFields(meta: ModuleMeta): FieldDef[] {
  let own = moduleFieldsOf.get(meta);
  if (!own) {
    own = meta.fields.filter((f) => f.storage === 'module');
    moduleFieldsOf.set(meta, own);
  }
  return own;
}

/**
 * Selects what `toRecord` reads: the entity's columns (`_e_id`, …), the module table's columns and, with
 * `withOwnerRolePaths`, each owner's role path (for a sharing check in code). On SQLite the entity's and the
 * module's columns come as JSON arrays of 100 values at most (`_j0`, `_j1`, …; the entity's first), parsed by
 * `toRecord`: better-sqlite3 turns every value of a row into a JavaScript value one call at a time, ~150 ns
 * each even for a NULL, and a contact has 52. The statement for a page of ten (parsing aside) took 103 µs
 * returning columns, 34 µs with the module's as JSON (stop 45), 22 µs with the entity's too (stop 46).
 * SQLite writes doubles so that they read back exactly (3.53). PostgreSQL rows arrive as objects from the
 * wire and keep their columns.
 */
// biome-ignore lint/suspicious/noExplicitAny: module tables are defined by metadata at run time
export function selectRecordColumns<B extends SelectQueryBuilder<any, any, any>>(
  db: Q,
  meta: ModuleMeta,
  from: B,
  withOwnerRolePaths: boolean,
): B {
  // biome-ignore lint/suspicious/noExplicitAny: as above
  let q: SelectQueryBuilder<any, any, any> = from;
  if (dialectOf(db) !== 'sqlite')
    q = q.select(ENTITY_COLUMNS.map((c, i) => `e.${c} as ${ENTITY_ALIASES[i]!}` as const)).selectAll('m');
  else {
    const columns = [
      ...ENTITY_COLUMNS.map((c) => sql.id('e', c)),
      ...moduleFields(meta).map((f) => sql.id('m', f.name)),
    ];
    for (let i = 0; i < columns.length; i += JSON_ARRAY_VALUES)
      q = q.select(
        sql`json_array(${sql.join(columns.slice(i, i + JSON_ARRAY_VALUES))})`.as(
          `_j${i / JSON_ARRAY_VALUES}`,
        ),
      );
  }
  if (withOwnerRolePaths)
    q = q
      .leftJoin('users as _ou', '_ou.id', 'e.owner_id')
      .leftJoin('roles as _or', '_or.id', '_ou.role_id')
      .select('_or.path as _owner_role_path');
  return q as B;
}

/** The values of a row read by `selectRecordColumns` on SQLite (the entity's, then the module's); undefined for a row of columns. */
function jsonValues(r: Record<string, unknown>): unknown[] | undefined {
  const first = r._j0;
  if (typeof first !== 'string') return undefined;
  let values = JSON.parse(first) as unknown[];
  for (let i = 1, more = r._j1; typeof more === 'string'; more = r[`_j${++i}`])
    values = values.concat(JSON.parse(more) as unknown[]);
  return values;
}

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
    /** only records owned by one of these users (a sharing scope's owners: `visibleQuery`) */
    ownedBy?: readonly number[];
    /** at most this many rows read by a page's per-owner statements together (tests set it) */
    ownerPageRows?: number;
  } = {},
): Promise<CrmRecord[]> {
  // The head (SELECT list and FROM) is compiled once; Kysely compiles only the conditions, order and limit.
  // Building the whole query with Kysely's select builder and compiling it cost ~13 % of a web-service
  // query's CPU, more than SQLite took to run it (stop 45).
  const conds: Expression<unknown>[] = [sql`"e"."module" = ${meta.name}`];
  if (!opts.includeDeleted) conds.push(sql.raw('"e"."deleted_at" is null'));
  // each condition in parentheses: a raw `a OR b` must not bind to its neighbour's AND
  for (const w of where) conds.push(sql`(${w})`);
  const order = opts.order ?? [];
  const orderBy =
    order.length > 0
      ? sql` order by ${sql.join(
          order.map((o) => sql`${o.expr} ${sql.raw(o.desc ? 'desc' : 'asc')}`),
          sql`, `,
        )}`
      : sql``;
  const { ownedBy, limit, offset = 0 } = opts;
  let filter: RawBuilder<unknown>;
  if (
    ownedBy &&
    ownedBy.length > 0 &&
    limit !== undefined &&
    !opts.includeDeleted &&
    ownedBy.length * (offset + limit) <= (opts.ownerPageRows ?? OWNER_PAGE_ROWS)
  ) {
    // A page per owner, then the page of their union. The page in the query's order over "owned by one
    // of these" walks the whole order (the id index, for most pages) until it has met enough of their
    // rows: 12 ms on SQLite for a user's 50 contacts behind 100,000 others, and as much to find that
    // there is no next page. Each owner's page walks `crm_entities(module, owner_id, id)` for the live
    // rows, in id order, and stops at offset + limit (15 µs there).
    const from = sql.raw(selectHead(db, meta, false).idsFrom);
    const arms = ownedBy.map(
      (owner) =>
        sql`select p.id from (${from} where ${sql.join(conds, sql` and `)} and "e"."owner_id" = ${owner}${orderBy} limit ${literalLimit(offset + limit)}) p`,
    );
    filter = sql`where "e"."id" in (${sql.join(arms, sql` union all `)})`;
  } else {
    if (ownedBy) conds.push(sql`(${ownedByCondition(ownedBy)})`);
    filter = sql`where ${sql.join(conds, sql` and `)}`;
  }
  const tail = sql`${filter}${orderBy}${limit !== undefined ? sql` limit ${literalLimit(limit)}` : sql``}${
    offset ? sql` offset ${offset}` : sql``
  }`.compile(db);
  const head = selectHead(db, meta, opts.ownerRolePaths !== undefined);
  const { rows } = await db.executeQuery<Record<string, unknown>>(
    CompiledQuery.raw(head.withTail(tail.sql), tail.parameters as unknown[]),
  );
  return rowsToRecords(db, meta, rows, opts.ownerRolePaths);
}

/**
 * At most this many rows a page's per-owner statements read together (owners × (offset + limit)); past
 * it (many owners, a deep offset) one statement filters by the owners instead.
 */
const OWNER_PAGE_ROWS = 2_000;

/** The SELECT list and FROM clause of a record query, and the whole statements made from it. */
interface SelectHead {
  /**
   * The statement with this tail (which takes every parameter: the head has none), as the same string
   * each time: SQLite's statement cache is a Map keyed by the statement, and a string built anew is
   * hashed whole on every lookup (the head is ~1.4 KB with its JSON columns); only the short tail is here.
   */
  withTail(tail: string): string;
  /** `select e.id` from the same tables, for a subquery of ids */
  idsFrom: string;
}

/** Statements kept per head; past this many (a caller with ever-new conditions) they start again. */
const STATEMENTS_PER_HEAD = 256;

/**
 * Per (frozen) module metadata, dialect and whether owners' role paths are read: the head of
 * `selectRecords`, compiled by Kysely once. Memo only: keys are held weakly.
 */
const selectHeads = new WeakMap<ModuleMeta, Map<string, SelectHead>>();

function selectHead(db: Q, meta: ModuleMeta, withOwnerRolePaths: boolean): SelectHead {
  let heads = selectHeads.get(meta);
  if (!heads) {
    heads = new Map();
    selectHeads.set(meta, heads);
  }
  const key = `${db.getExecutor().adapter.constructor.name}:${withOwnerRolePaths}`;
  let head = heads.get(key);
  if (!head) {
    const compiled = selectRecordColumns(db, meta, recordsFrom(db, meta), withOwnerRolePaths).compile();
    if (compiled.parameters.length > 0) throw new Error('a record query head took a parameter');
    const statements = new Map<string, string>();
    head = {
      idsFrom: recordsFrom(db, meta).select('e.id').compile().sql,
      withTail(tail) {
        let statement = statements.get(tail);
        if (statement === undefined) {
          if (statements.size >= STATEMENTS_PER_HEAD) statements.clear();
          statement = `${compiled.sql} ${tail}`;
          statements.set(tail, statement);
        }
        return statement;
      },
    };
    heads.set(key, head);
  }
  return head;
}

/** Rows of a record query (`selectRecordColumns`) as records, dead references cleared. */
export function rowsToRecords(
  db: Q,
  meta: ModuleMeta,
  rows: Array<Record<string, unknown>>,
  ownerRolePaths: Map<number, string> | undefined,
): Promise<CrmRecord[]> {
  const recs = rows.map((r) => toRecord(meta, r));
  if (ownerRolePaths)
    for (let i = 0; i < rows.length; i++)
      ownerRolePaths.set(recs[i]!.id, String(rows[i]!._owner_role_path ?? ''));
  return clearDeadReferences(db, meta, recs);
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

/**
 * How many live records of the module match `where`. Counted from the entity rows alone when no condition
 * names the module's table (`m`): every entity row has its module row, and the join made PostgreSQL read
 * both tables whole (20,000 contacts: 26.8 ms against 2.4 ms) and SQLite look up each module row (1.09 ms
 * against 0.50 ms). (A LEFT JOIN that both planners could drop was tried: SQLite kept it.)
 */
export async function countRecords(db: Q, meta: ModuleMeta, where: Expression<SqlBool>[]): Promise<number> {
  const from = where.some((w) => namesModuleTable(db, w))
    ? recordQuery(db, meta)
    : untyped(db)
        .selectFrom('crm_entities as e')
        .where('e.module', '=', meta.name)
        .where('e.deleted_at', 'is', null);
  let q = from.select((eb) => eb.fn.countAll().as('n'));
  for (const w of where) q = q.where(w);
  const row = (await q.executeTakeFirstOrThrow()) as { n: number | string };
  return Number(row.n);
}

/** Whether a condition refers to the module table's alias `m` (`"m"."col"` from a reference, `m.col` raw). */
function namesModuleTable(db: Q, condition: Expression<SqlBool>): boolean {
  return /"m"\.|(^|[^\w."])m\./.test(sql`${condition}`.compile(db).sql);
}

type FieldsOfRow = (
  r: Record<string, unknown>,
  read: ReadonlyArray<(v: unknown) => FieldValue>,
  values: readonly unknown[],
  entity: readonly unknown[],
) => Record<string, FieldValue>;

/** Per (frozen) module metadata, `fieldsOfRow`'s generated functions. Memo only: keys are held weakly. */
const fieldsOfRowBuilders = new WeakMap<
  ModuleMeta,
  { fromRow: FieldsOfRow; fromJson: FieldsOfRow; read: Array<(v: unknown) => FieldValue> }
>();

/** Where `entity` (below) holds each of ENTITY_COLUMNS. */
const ENTITY_AT = Object.fromEntries(ENTITY_COLUMNS.map((c, i) => [c, i])) as Record<EntityColumn, number>;

/**
 * A record's fields from its row, as one object literal generated per module (module fields in the
 * metadata's order, then the entity's), as `restRecord` and the presenter build theirs. Built property by
 * property, 40+ computed keys, they were 17 % of a 100-record list's CPU in a fresh process (10 % once the
 * masking presenter had run: V8's shapes for such objects depend on what ran before; `literalFunction`).
 * The module fields come from the row's columns, or on SQLite from its JSON values (`selectRecordColumns`).
 */
function fieldsOfRow(
  meta: ModuleMeta,
  r: Record<string, unknown>,
  values: readonly unknown[] | undefined,
  entity: readonly unknown[],
): Record<string, FieldValue> {
  let b = fieldsOfRowBuilders.get(meta);
  if (!b) {
    const own = moduleFields(meta);
    const entityFields: LiteralEntry[] = [
      ['assigned_user_id', () => `Number(entity[${ENTITY_AT.owner_id}])`],
      ['createdtime', () => `Number(entity[${ENTITY_AT.created_at}])`],
      ['modifiedtime', () => `Number(entity[${ENTITY_AT.modified_at}])`],
      ['modifiedby', () => `Number(entity[${ENTITY_AT.modified_by}])`],
    ];
    const builder = (value: (i: number, key: string) => string) =>
      literalFunction<FieldsOfRow>(
        ['r', 'read', 'values', 'entity'],
        [...own.map((f, i): LiteralEntry => [f.name, (k) => `read[${i}](${value(i, k)})`]), ...entityFields],
      );
    b = {
      fromRow: builder((_, k) => `r[${k}]`),
      fromJson: builder((i) => `values[${ENTITY_COLUMNS.length + i}]`),
      read: own.map((f) => columnReader(f.type)),
    };
    fieldsOfRowBuilders.set(meta, b);
  }
  return values ? b.fromJson(r, b.read, values, entity) : b.fromRow(r, b.read, NO_VALUES, entity);
}

const NO_VALUES: readonly unknown[] = [];

function toRecord(meta: ModuleMeta, r: Record<string, unknown>): CrmRecord {
  const values = jsonValues(r);
  // the entity's columns in ENTITY_COLUMNS' order: the JSON values start with them
  const e = values ?? ENTITY_ALIASES.map((alias) => r[alias]);
  return {
    id: Number(e[ENTITY_AT.id]),
    module: meta.name,
    version: Number(e[ENTITY_AT.version]),
    label: String(e[ENTITY_AT.label]),
    ownerId: Number(e[ENTITY_AT.owner_id]),
    createdBy: Number(e[ENTITY_AT.created_by]),
    modifiedBy: Number(e[ENTITY_AT.modified_by]),
    createdAt: Number(e[ENTITY_AT.created_at]),
    modifiedAt: Number(e[ENTITY_AT.modified_at]),
    deletedAt: e[ENTITY_AT.deleted_at] === null ? null : Number(e[ENTITY_AT.deleted_at]),
    fields: fieldsOfRow(meta, r, values, e),
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

/** A new entity row's columns, in the order the inserts below bind them. */
const INSERTED_ENTITY_COLUMNS = [
  'module',
  'owner_id',
  'created_by',
  'modified_by',
  'created_at',
  'modified_at',
  'deleted_at',
  'version',
  'label',
] as const;

const insertEntityRows = preparedInsert('crm_entities', INSERTED_ENTITY_COLUMNS, { returningId: true });

/** SQLite: a module's next number, taken by moving its row in `record_sequences` on by one. */
const takeNumber = prepared((db, module: string) =>
  db
    .updateTable('record_sequences')
    .set((eb) => ({ next_value: eb('next_value', '+', 1) }))
    .where('module', '=', module)
    .returning(sql<number>`next_value - 1`.as('number')),
);

/** PostgreSQL's sequence of a module's record numbers (migration 0026). */
export const recordNumberSequence = (module: string) => `record_number_${module.toLowerCase()}`;

/**
 * PostgreSQL: a numbered record's entity row, its number drawn from the module's sequence by the same
 * statement. Taking the number was a statement of its own that updated the module's `record_sequences`
 * row: creates of a module queued on that row's lock, and each paid the statement's round trip and
 * execution (a create without it ran ~17 % faster here). Waiting inserts ride along (`carrier`).
 */
const insertNumberedEntity = prepared(
  (db, sequence: string, ...values: unknown[]) =>
    db
      .insertInto('crm_entities')
      .values(Object.fromEntries(INSERTED_ENTITY_COLUMNS.map((c, i) => [c, values[i]])) as never)
      .returning(['id', sql<string>`nextval(${sequence}::regclass)`.as('number')]),
  (q) => carrier(q, 'crm_entities'),
);

/**
 * A new record's entity row: answers its id and, for a module with record numbers, its number (`CON42`).
 * On PostgreSQL the number comes from the module's sequence, which never takes a number back, so a create
 * that fails leaves a gap (Vtiger's numbering has them too); on SQLite it is taken inside the write, which
 * the group commit's batch holds the write lock for anyway. Two creates never share a number.
 */
export async function insertEntity(
  trx: Transaction<Database>,
  meta: ModuleMeta,
  entity: { ownerId: number; userId: number; now: number; label: string },
): Promise<{ id: number; number: string | null }> {
  const numbered = meta.numberField;
  // the label is made before the number exists; the standard modules label records by name
  if (numbered && meta.labelFields.includes(numbered.name))
    throw new Error(`${meta.name} cannot label its records by their number`);
  const row = {
    module: meta.name,
    owner_id: entity.ownerId,
    created_by: entity.userId,
    modified_by: entity.userId,
    created_at: entity.now,
    modified_at: entity.now,
    deleted_at: null,
    version: 1,
    label: entity.label,
  };
  if (numbered && dialectOf(trx) === 'postgres') {
    const sequence = recordNumberSequence(meta.name);
    const { rows } = await insertNumberedEntity(trx, sequence, ...INSERTED_ENTITY_COLUMNS.map((c) => row[c]));
    const inserted = rows[0] as { id: number | string; number: number | string };
    return { id: Number(inserted.id), number: `${numbered.prefix}${Number(inserted.number)}` };
  }
  let number: string | null = null;
  if (numbered) {
    const taken = (await takeNumber(trx, meta.name)).rows[0] as { number: number | string } | undefined;
    if (!taken) throw new Error(`${meta.name} has no record numbers to take`);
    number = `${numbered.prefix}${Number(taken.number)}`;
  }
  const [id] = await insertEntityRows(trx, [row]);
  if (id === undefined) throw new Error('inserting a record returned no id');
  return { id, number };
}

/** A new record's row in its module's table, after its entity row (`insertEntity`). */
export async function insertModuleRow(
  trx: Transaction<Database>,
  meta: ModuleMeta,
  id: number,
  columns: Record<string, unknown>,
): Promise<void> {
  // nothing reads this row back in the transaction before its next statement: it may go along with that
  await trx.executeQuery(deferrable(insertRow(trx, meta.table, { ...columns, id }), meta.table));
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
