import { type Expression, type SqlBool, sql } from 'kysely';
import type { AppContext } from '../context.js';
import { maskedValueRedactor, type Redactor } from '../masking/mask-redact.js';
import { type Principal, scopeAllows } from '../roles/permissions.js';
import { type ModuleMeta, type ModuleRef, resolveModule } from './module-meta.js';
import { withLineItems } from './quote-line-items.service.js';
import { recordError } from './record.errors.js';
import type { CrmRecord } from './record.model.js';
import { countRecords, moduleOfIds, selectRecords } from './record.repository.js';
import { requireModule, scopeFor } from './record-access.js';
import { selectRecordById } from './record-by-id.repository.js';
import {
  type ModuleView,
  moduleViewFor,
  type PresentedRecord,
  presentRecord,
  presentRecords,
} from './record-presenter.js';
import { MAX_LISTED_OWNERS, ownedByCondition, scopeCondition, scopeOwners } from './record-scope.js';

/** A stored record the caller may see, or 404 (not found and not visible look the same). Not presented. */
export async function findVisible(
  ctx: AppContext,
  p: Principal,
  meta: ModuleMeta,
  id: number,
): Promise<CrmRecord> {
  const scope = await scopeFor(ctx, p, meta.name, 'view');
  // one record by primary key: read it with its owner's role path and apply the sharing rule in code
  const paths = new Map<number, string>();
  const rec = await selectRecordById(ctx.db.kysely, meta, id, paths);
  if (!rec || !scopeAllows(scope, { ownerId: rec.ownerId, ownerRolePath: paths.get(rec.id) ?? '' }))
    throw recordError('RECORD_NOT_FOUND', `There is no ${meta.singular} ${id}.`);
  return rec;
}

/** 403 when the caller sees the record (e.g. public read) but may not `action` it. */
export async function requireRecordAction(
  ctx: AppContext,
  p: Principal,
  meta: ModuleMeta,
  rec: CrmRecord,
  action: 'edit' | 'delete',
): Promise<void> {
  const scope = scopeCondition(await scopeFor(ctx, p, meta.name, action));
  if (!scope) return;
  const [ok] = await selectRecords(ctx.db.kysely, meta, [sql`e.id = ${rec.id}`, scope]);
  if (!ok)
    throw recordError('RECORD_PERMISSION_DENIED', `You may see this ${meta.singular} but not ${action} it.`);
}

/** The stored record the caller may see (404/403 otherwise), with their view of its module. */
async function readVisible(ctx: AppContext, p: Principal, module: ModuleRef, id: number) {
  const meta = await resolveModule(ctx.db.kysely, module);
  requireModule(p, meta, 'view');
  const [view, rec] = await Promise.all([moduleViewFor(ctx, p, meta), findVisible(ctx, p, meta, id)]);
  await withLineItems(ctx.db.kysely, meta, [rec]);
  return { view, rec };
}

/** One record as the caller may see it. */
export async function getRecord(
  ctx: AppContext,
  p: Principal,
  module: ModuleRef,
  id: number,
): Promise<PresentedRecord> {
  const { view, rec } = await readVisible(ctx, p, module, id);
  return presentRecord(view, rec);
}

/**
 * One record as the caller may see it (the same checks and presenter as `getRecord`), with a redactor for
 * free text stored with the record (an email the mailroom linked to it): the values of the fields masked
 * for the caller become their placeholders there too.
 */
export async function getRecordWithRedactor(
  ctx: AppContext,
  p: Principal,
  module: ModuleRef,
  id: number,
): Promise<{ record: PresentedRecord; redact: Redactor }> {
  const { view, rec } = await readVisible(ctx, p, module, id);
  return { record: presentRecord(view, rec), redact: maskedValueRedactor(view, rec) };
}

/** The caller's view of a module they may see (403 otherwise): for compiling their filters and sorts. */
export async function viewModule(ctx: AppContext, p: Principal, module: ModuleRef): Promise<ModuleView> {
  const meta = await resolveModule(ctx.db.kysely, module);
  requireModule(p, meta, 'view');
  return moduleViewFor(ctx, p, meta);
}

/**
 * A query over the records the viewer may see. `where` and `order` are built from `queryColumn(view, …)`
 * (or `compileFilter`), which refuse fields the viewer may not use.
 */
export interface RecordQuery {
  where?: Expression<SqlBool>[];
  order?: Array<{ expr: Expression<unknown>; desc: boolean }>;
  limit?: number;
  offset?: number;
  /** Quotes: read their line items too */
  lineItems?: boolean;
}

/**
 * The records the viewer may see, for a query: `where` with their sharing scope, and for an "own and
 * subordinates" scope the owners themselves instead of a condition (`selectRecords` reads a page per owner
 * with them: see `ownedBy` there). The owners are read from the database for each query.
 */
export async function visibleQuery(
  ctx: AppContext,
  view: ModuleView,
  where: Expression<SqlBool>[] = [],
): Promise<{ where: Expression<SqlBool>[]; ownedBy?: readonly number[] }> {
  const scope = await scopeFor(ctx, view.principal, view.meta.name, 'view');
  const owners = await scopeOwners(ctx.db.kysely, scope);
  if (owners === null) return { where };
  if (owners.length > MAX_LISTED_OWNERS) return { where: [scopeCondition(scope)!, ...where] };
  return { where, ownedBy: owners };
}

/** `where` narrowed to the records the viewer may see (their sharing scope as SQL). */
export async function visibleWhere(
  ctx: AppContext,
  view: ModuleView,
  where: Expression<SqlBool>[] = [],
): Promise<Expression<SqlBool>[]> {
  const visible = await visibleQuery(ctx, view, where);
  return visible.ownedBy ? [ownedByCondition(visible.ownedBy), ...visible.where] : visible.where;
}

/** Records the viewer may see that match the query, presented, in its order (id last, for stable pages). */
export async function queryRecords(
  ctx: AppContext,
  view: ModuleView,
  q: RecordQuery,
): Promise<PresentedRecord[]> {
  const { where, ownedBy } = await visibleQuery(ctx, view, q.where);
  const rows = await selectRecords(ctx.db.kysely, view.meta, where, {
    order: [...(q.order ?? []), { expr: sql.ref('e.id'), desc: false }],
    limit: q.limit,
    offset: q.offset,
    ownedBy,
  });
  if (q.lineItems) await withLineItems(ctx.db.kysely, view.meta, rows);
  return presentRecords(view, rows);
}

/** How many records the viewer may see match `where`. */
export async function countMatching(
  ctx: AppContext,
  view: ModuleView,
  where: Expression<SqlBool>[] = [],
): Promise<number> {
  return countRecords(ctx.db.kysely, view.meta, await visibleWhere(ctx, view, where));
}

/** The module of each of `ids` (referenced records), for formats that qualify ids by module. */
export async function modulesOfRecords(ctx: AppContext, ids: number[]): Promise<Map<number, string>> {
  if (ids.length === 0) return new Map();
  const rows = await moduleOfIds(ctx.db.kysely, ids);
  return new Map(rows.map((r) => [r.id, r.module]));
}
