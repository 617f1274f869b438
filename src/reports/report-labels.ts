import { sql } from 'kysely';
import type { AppContext } from '../context.js';
import type { FieldValue } from '../records/field-coerce.js';
import { isModuleName, moduleMetaFor } from '../records/module-meta.js';
import { moduleViewFor } from '../records/record-presenter.js';
import { modulesOfRecords, queryRecords } from '../records/record-read.service.js';
import { canUseModule, type Principal } from '../roles/permissions.js';
import type { FieldRef } from './report-compiler.js';

const BATCH = 500;

/** Reference and owner fields show a name, not an id. */
export const isLabelled = (ref: FieldRef | null | undefined): ref is FieldRef =>
  ref?.field.type === 'reference' || ref?.field.type === 'owner';

/** The labels of records, as the viewer sees them: through their sharing (unseen → absent) and masking. */
async function recordLabels(ctx: AppContext, p: Principal, ids: number[]): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  const byModule = new Map<string, number[]>();
  for (const [id, module] of await modulesOfRecords(ctx, ids))
    byModule.set(module, [...(byModule.get(module) ?? []), id]);
  for (const [module, list] of byModule) {
    if (!isModuleName(module) || !canUseModule(p, module, 'view')) continue;
    const view = await moduleViewFor(ctx, p, await moduleMetaFor(ctx, module));
    for (let i = 0; i < list.length; i += BATCH) {
      const chunk = list.slice(i, i + BATCH);
      for (const rec of await queryRecords(ctx, view, { where: [sql`e.id in (${sql.join(chunk)})`] }))
        out.set(rec.id, rec.label);
    }
  }
  return out;
}

async function userNames(ctx: AppContext, ids: number[]): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  for (let i = 0; i < ids.length; i += BATCH) {
    const rows = await ctx.db.kysely
      .selectFrom('users')
      .select(['id', 'first_name', 'last_name', 'username'])
      .where('id', 'in', ids.slice(i, i + BATCH))
      .execute();
    for (const u of rows) out.set(u.id, `${u.first_name} ${u.last_name}`.trim() || u.username);
  }
  return out;
}

/**
 * Replaces, in place, the ids of reference and owner cells (column `i` holds a value of `refs[i]`) by the
 * referenced record's label as the viewer sees it, or the owner's name. A record the viewer may not see shows
 * as empty. Grouping and sorting still use the ids, so two records with the same name stay two groups.
 */
export async function labelReferences(
  ctx: AppContext,
  p: Principal,
  refs: ReadonlyArray<FieldRef | null>,
  rows: FieldValue[][],
): Promise<void> {
  const records = new Set<number>();
  const owners = new Set<number>();
  refs.forEach((ref, i) => {
    if (!isLabelled(ref)) return;
    const into = ref.field.type === 'owner' ? owners : records;
    for (const row of rows) if (typeof row[i] === 'number') into.add(row[i] as number);
  });
  if (records.size === 0 && owners.size === 0) return;
  const [labels, names] = await Promise.all([
    records.size ? recordLabels(ctx, p, [...records]) : new Map<number, string>(),
    owners.size ? userNames(ctx, [...owners]) : new Map<number, string>(),
  ]);
  refs.forEach((ref, i) => {
    if (!isLabelled(ref)) return;
    const from = ref.field.type === 'owner' ? names : labels;
    for (const row of rows) if (typeof row[i] === 'number') row[i] = from.get(row[i] as number) ?? null;
  });
}
