import { type SqlBool, sql } from 'kysely';
import type { AppContext } from '../context.js';
import { canUseModule, type Principal } from '../roles/permissions.js';
import type { FieldValue } from './field-coerce.js';
import { listModuleMetas } from './module-meta.js';
import { type ModuleView, moduleViewFor, type PresentedRecord } from './record-presenter.js';
import { queryRecords } from './record-read.service.js';
import {
  ftsQuery,
  normalize,
  queryWords,
  searchableFields,
  termStarts,
  words,
} from './record-search-index.js';

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
  const pairs: Array<[string, string]> = [];
  for (const meta of await listModuleMetas(ctx.db.kysely)) {
    if (!canUseModule(p, meta.name, 'view')) continue;
    const view = await moduleViewFor(ctx, p, meta);
    const fields = searchableFields(meta).filter((f) => !view.masked.has(f));
    if (fields.length === 0) continue;
    views.set(meta.name, view);
    for (const f of fields) pairs.push([meta.name, f]);
  }
  if (pairs.length === 0) return [];
  const candidates =
    ctx.db.dialect === 'sqlite'
      ? await ftsCandidates(ctx, qWords, pairs)
      : await termCandidates(ctx, qWords, pairs);

  const byModule = new Map<string, number[]>();
  for (const c of candidates) {
    const ids = byModule.get(c.module) ?? [];
    ids.push(c.record_id);
    byModule.set(c.module, ids);
  }
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

type Candidate = { record_id: number; module: string };

/** SQLite: one FTS5 query, every word a prefix of a token of an allowed (module, field). */
async function ftsCandidates(ctx: AppContext, qWords: string[], pairs: Array<[string, string]>) {
  const res = await sql<Candidate>`select e.id as record_id, e.module from search_fts
    join crm_entities e on e.id = search_fts.rowid
    where search_fts match ${ftsQuery(qWords, pairs)} and e.deleted_at is null
    limit ${CANDIDATES}`.execute(ctx.db.kysely);
  return res.rows;
}

/** PostgreSQL: the terms table, the longest word first (it narrows most), then the others on its candidates. */
async function termCandidates(ctx: AppContext, qWords: string[], pairs: Array<[string, string]>) {
  const byModule = new Map<string, string[]>();
  for (const [m, f] of pairs) byModule.set(m, [...(byModule.get(m) ?? []), f]);
  const where = sql<SqlBool>`(${sql.join(
    [...byModule].map(([m, fields]) => sql<SqlBool>`(t.module = ${m} and t.field in (${sql.join(fields)}))`),
    sql` or `,
  )})`;
  const [first, ...rest] = [...qWords].sort((a, b) => b.length - a.length);
  let candidates: Candidate[] = await ctx.db.kysely
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
  return candidates;
}
