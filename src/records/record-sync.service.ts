import { sql } from 'kysely';
import type { AppContext } from '../context.js';
import type { Principal } from '../roles/permissions.js';
import { loadModuleMeta, type ModuleMeta } from './module-meta.js';
import { selectRecords } from './record.repository.js';
import { moduleViewFor, type PresentedRecord, presentRecords } from './record-presenter.js';

export interface ChangesSince {
  /** live records changed since, grouped by module in the order first met, presented for the caller */
  updated: Array<{ meta: ModuleMeta; records: PresentedRecord[] }>;
  deleted: Array<{ id: number; module: string }>;
  /** the modification time of the last change returned (or `since` when there was none) */
  last: number;
  more: boolean;
}

/**
 * Records of `modules` changed or deleted after `since` (epoch ms), oldest first, `limit` at a time: the
 * caller's own records, or every record when `everyone` (an admin's application-wide sync).
 */
export async function changesSince(
  ctx: AppContext,
  p: Principal,
  opts: { modules: string[]; since: number; everyone: boolean; limit: number },
): Promise<ChangesSince> {
  const db = ctx.db.kysely;
  if (opts.modules.length === 0) return { updated: [], deleted: [], last: opts.since, more: false };
  let q = db
    .selectFrom('crm_entities')
    .select(['id', 'module', 'modified_at', 'deleted_at'])
    .where('module', 'in', opts.modules)
    .where('modified_at', '>', opts.since);
  if (!opts.everyone) q = q.where('owner_id', '=', p.userId);
  const changes = await q
    .orderBy('modified_at')
    .orderBy('id')
    .limit(opts.limit + 1)
    .execute();
  const page = changes.slice(0, opts.limit);
  const deleted: ChangesSince['deleted'] = [];
  const byModule = new Map<string, number[]>();
  for (const c of page) {
    if (c.deleted_at !== null) deleted.push({ id: c.id, module: c.module });
    else byModule.set(c.module, [...(byModule.get(c.module) ?? []), c.id]);
  }
  const updated: ChangesSince['updated'] = [];
  for (const [module, ids] of byModule) {
    const meta = await loadModuleMeta(db, module);
    const recs = await selectRecords(db, meta, [sql<boolean>`e.id in (${sql.join(ids)})`]);
    updated.push({ meta, records: presentRecords(await moduleViewFor(ctx, p, meta), recs) });
  }
  return {
    updated,
    deleted,
    last: page[page.length - 1]?.modified_at ?? opts.since,
    more: changes.length > opts.limit,
  };
}
