import type { AppContext } from '../context.js';
import { listModuleMetas, type ModuleMeta } from '../records/module-meta.js';
import { canUseModule, type Principal } from '../roles/permissions.js';

/** A related list of `source`: the records of `target` whose `fields` point at the source record. */
export interface WsRelation {
  target: ModuleMeta;
  fields: string[];
  /** the related list's label: the target module's label, as in Vtiger's default related lists */
  label: string;
}

/** Related lists come from reference fields: Contacts.account_id makes Contacts a related list of Accounts. */
export async function relationsOf(ctx: AppContext, p: Principal, source: string): Promise<WsRelation[]> {
  const out: WsRelation[] = [];
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
): Promise<WsRelation | undefined> {
  const all = await relationsOf(ctx, p, source);
  return all.find(
    (r) =>
      (r.label === label || r.target.name === label) &&
      (relatedType === undefined || r.target.name === relatedType),
  );
}
