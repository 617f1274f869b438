import { sql } from 'kysely';
import { isModuleName, loadModuleMeta } from '../../records/module-meta.js';
import { STANDARD_MODULES } from '../../records/modules/index.js';
import { selectRecords } from '../../records/record.repository.js';
import { canUseModule } from '../../roles/permissions.js';
import { WsError } from '../ws-errors.js';
import { formatWsId, prefixForModule } from '../ws-ids.js';
import { wsModule } from '../ws-module-access.js';
import { requireCaller, type WsOperation } from '../ws-operation.js';
import { toWsRecords } from '../ws-record-format.js';

const MAX_CHANGES = 100;

/**
 * `sync`: records changed or deleted since `modifiedTime` (unix seconds), oldest first, 100 per call.
 * Vtiger's handler crashes on PHP 8 (named-argument mismatch); this does what it was meant to do: the
 * caller's own records (`syncType=application` widens to every record for an admin).
 */
export const sync: WsOperation = {
  name: 'sync',
  method: 'GET',
  prelogin: false,
  async run(call) {
    const { principal } = requireCaller(call);
    const raw = call.params.string('modifiedTime').trim();
    if (!/^\d{1,12}$/.test(raw))
      throw new WsError('INVALID_REQUEST', 'modifiedTime must be a unix time in seconds');
    const since = Number(raw) * 1000;
    const elementType = call.params.string('elementType');
    const modules = elementType
      ? [(await wsModule(call.ctx, principal, elementType, 'view')).name]
      : STANDARD_MODULES.map((m) => m.name).filter(
          (m) => isModuleName(m) && canUseModule(principal, m, 'view'),
        );
    const everyone = call.params.get('syncType') === 'application' && principal.isAdmin;
    const db = call.ctx.db.kysely;
    if (modules.length === 0)
      return { updated: [], deleted: [], lastModifiedTime: Math.floor(since / 1000), more: false };

    let q = db
      .selectFrom('crm_entities')
      .select(['id', 'module', 'modified_at', 'deleted_at'])
      .where('module', 'in', modules)
      .where('modified_at', '>', since);
    if (!everyone) q = q.where('owner_id', '=', principal.userId);
    const changes = await q
      .orderBy('modified_at')
      .orderBy('id')
      .limit(MAX_CHANGES + 1)
      .execute();
    const more = changes.length > MAX_CHANGES;
    const page = changes.slice(0, MAX_CHANGES);

    const updated: unknown[] = [];
    const deleted: string[] = [];
    const byModule = new Map<string, number[]>();
    for (const c of page) {
      if (c.deleted_at !== null) deleted.push(formatWsId(prefixForModule(c.module) ?? 0, c.id));
      else byModule.set(c.module, [...(byModule.get(c.module) ?? []), c.id]);
    }
    for (const [module, ids] of byModule) {
      const meta = await loadModuleMeta(db, module);
      const recs = await selectRecords(db, meta, [sql<boolean>`e.id in (${sql.join(ids)})`]);
      updated.push(...(await toWsRecords(db, meta, recs)));
    }
    const last = page[page.length - 1];
    return {
      updated,
      deleted,
      lastModifiedTime: Math.floor((last ? last.modified_at : since) / 1000),
      more,
    };
  },
};
