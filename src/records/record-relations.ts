import { type Expression, type SqlBool, sql } from 'kysely';
import type { AppContext } from '../context.js';
import { canUseModule, type Principal } from '../roles/permissions.js';
import { listModuleMetas, type ModuleMeta } from './module-meta.js';
import type { ModuleView, PresentedRecord } from './record-presenter.js';
import { countMatching, queryRecords, type RecordQuery } from './record-read.service.js';

/**
 * A related list of `source`: the records of `target` whose `fields` point at the source record (the REST
 * related lists and the web-service related operations share these).
 */
export interface RecordRelation {
  target: ModuleMeta;
  fields: string[];
  /** the related list's label: the target module's label, as in Vtiger's default related lists */
  label: string;
}

/** Related lists come from reference fields: Contacts.account_id makes Contacts a related list of Accounts. */
export async function relationsOf(ctx: AppContext, p: Principal, source: string): Promise<RecordRelation[]> {
  const out: RecordRelation[] = [];
  for (const meta of await listModuleMetas(ctx.db.kysely)) {
    if (!canUseModule(p, meta.name, 'view')) continue;
    const fields = meta.fields
      .filter((f) => f.type === 'reference' && f.editable && (f.refersTo ?? []).includes(source))
      .map((f) => f.name);
    if (fields.length) out.push({ target: meta, fields, label: meta.label });
  }
  return out;
}

/** The relation named by a related-list label (or the target module's name), if there is one. */
export async function findRelation(
  ctx: AppContext,
  p: Principal,
  source: string,
  label: string,
  relatedType?: string,
): Promise<RecordRelation | undefined> {
  const all = await relationsOf(ctx, p, source);
  return all.find(
    (r) =>
      (r.label === label || r.target.name === label) &&
      (relatedType === undefined || r.target.name === relatedType),
  );
}

/** The related records of one source record that the viewer may see, presented (`view` is the target's). */
export async function relatedRecords(
  ctx: AppContext,
  view: ModuleView,
  relation: RecordRelation,
  sourceId: number,
  q: RecordQuery = {},
): Promise<PresentedRecord[]> {
  return queryRecords(ctx, view, { ...q, where: [pointsAt(relation, sourceId), ...(q.where ?? [])] });
}

/** How many related records the viewer may see (and match `where`). */
export async function countRelated(
  ctx: AppContext,
  view: ModuleView,
  relation: RecordRelation,
  sourceId: number,
  where: Expression<SqlBool>[] = [],
): Promise<number> {
  return countMatching(ctx, view, [pointsAt(relation, sourceId), ...where]);
}

function pointsAt(relation: RecordRelation, id: number) {
  return sql<SqlBool>`(${sql.join(
    relation.fields.map((f) => sql`${sql.ref(`m.${f}`)} = ${id}`),
    sql` OR `,
  )})`;
}
