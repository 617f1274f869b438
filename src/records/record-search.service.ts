import { type Expression, type SqlBool, sql } from 'kysely';
import type { AppContext } from '../context.js';
import { canUseModule, type Principal } from '../roles/permissions.js';
import type { FieldValue } from './field-coerce.js';
import { listModuleMetas } from './module-meta.js';
import { type ModuleView, moduleViewFor, type PresentedRecord } from './record-presenter.js';
import { queryRecords } from './record-read.service.js';
import { normalize, queryWords, searchableFields, termStarts, words } from './record-search-index.js';

export interface SearchHit {
  module: string;
  id: number;
  label: string;
  /** the searchable fields whose value matched, as the viewer sees them */
  matched: Array<{ field: string; label: string; value: FieldValue }>;
  modifiedAt: number;
}

/** How many index candidates a word may yield before the other words and sharing narrow them. */
const CANDIDATES = 2000;

/**
 * Global search: records of every module the viewer may see whose name, email, phone or number starts with
 * each word of `query`, best first (the whole name matching, then the name starting with the query, then
 * most recently changed). Sharing is applied by the ordinary read path and results are presented; a field
 * masked for the viewer is not searched, so a search cannot confirm a masked value.
 */
export async function searchRecords(
  ctx: AppContext,
  p: Principal,
  query: string,
  limit = 20,
): Promise<SearchHit[]> {
  const qWords = queryWords(query);
  if (qWords.length === 0) return [];
  const views = new Map<string, ModuleView>();
  const allowed: Expression<SqlBool>[] = [];
  for (const meta of await listModuleMetas(ctx.db.kysely)) {
    if (!canUseModule(p, meta.name, 'view')) continue;
    const view = await moduleViewFor(ctx, p, meta);
    const fields = searchableFields(meta).filter((f) => !view.masked.has(f));
    if (fields.length === 0) continue;
    views.set(meta.name, view);
    allowed.push(sql<SqlBool>`(t.module = ${meta.name} and t.field in (${sql.join(fields)}))`);
  }
  if (allowed.length === 0) return [];
  const where = sql<SqlBool>`(${sql.join(allowed, sql` or `)})`;

  // the longest word first: it narrows most
  const [first, ...rest] = [...qWords].sort((a, b) => b.length - a.length);
  let candidates = await ctx.db.kysely
    .selectFrom('search_terms as t')
    .select(['t.record_id', 't.module'])
    .distinct()
    .where(termStarts(first!))
    .where(where)
    .limit(CANDIDATES)
    .execute();
  for (const word of rest) {
    if (candidates.length === 0) break;
    const ids = candidates.map((c) => c.record_id);
    const keep = new Set(
      (
        await ctx.db.kysely
          .selectFrom('search_terms as t')
          .select('t.record_id')
          .distinct()
          .where('t.record_id', 'in', ids)
          .where(termStarts(word))
          .where(where)
          .execute()
      ).map((r) => r.record_id),
    );
    candidates = candidates.filter((c) => keep.has(c.record_id));
  }

  const byModule = new Map<string, number[]>();
  for (const c of candidates) byModule.set(c.module, [...(byModule.get(c.module) ?? []), c.record_id]);
  const hits: Array<SearchHit & { score: number }> = [];
  const wholeQuery = qWords.join(' ');
  for (const [module, ids] of byModule) {
    const view = views.get(module);
    if (!view) continue;
    const recs = await queryRecords(ctx, view, { where: [sql<SqlBool>`e.id in (${sql.join(ids)})`] });
    for (const rec of recs) hits.push(hit(view, rec, qWords, wholeQuery));
  }
  hits.sort((a, b) => b.score - a.score || b.modifiedAt - a.modifiedAt || a.id - b.id);
  return hits.slice(0, limit).map(({ score: _score, ...h }) => h);
}

function hit(view: ModuleView, rec: PresentedRecord, qWords: string[], whole: string) {
  const label = words(rec.label).join(' ');
  const score = label === whole ? 3 : label.startsWith(whole) ? 2 : 1;
  const matched: SearchHit['matched'] = [];
  for (const field of searchableFields(view.meta)) {
    if (view.meta.labelFields.includes(field) || view.masked.has(field)) continue;
    const value = rec.fields[field] ?? null;
    if (value === null || value === '') continue;
    const text = normalize(String(value));
    const digits = text.replace(/\D+/g, '');
    if (qWords.some((w) => text.includes(w) || (digits.length > 0 && digits.includes(w))))
      matched.push({ field, label: view.meta.fieldMap.get(field)?.label ?? field, value });
  }
  return { module: view.meta.name, id: rec.id, label: rec.label, matched, modifiedAt: rec.modifiedAt, score };
}
