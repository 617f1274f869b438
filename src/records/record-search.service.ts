import { type SqlBool, sql } from 'kysely';
import type { AppContext } from '../context.js';
import { literalLimit } from '../db/literal-limits.js';
import { canUseModule, type Principal } from '../roles/permissions.js';
import type { FieldValue } from './field-coerce.js';
import { listModuleMetas } from './module-meta.js';
import { type ModuleView, moduleViewFor, type PresentedRecord } from './record-presenter.js';
import { queryRecords, visibleWhere } from './record-read.service.js';
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
  /** how many index candidates to rank (tests use a few instead of CANDIDATES) */
  candidates = CANDIDATES,
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
  const found =
    ctx.db.dialect === 'sqlite'
      ? await ftsCandidates(ctx, qWords, pairs, candidates)
      : await termCandidates(ctx, qWords, pairs, candidates);

  const byModule = new Map<string, number[]>();
  for (const c of found) {
    const ids = byModule.get(c.module) ?? [];
    ids.push(c.record_id);
    byModule.set(c.module, ids);
  }
  const wholeQuery = qWords.join(' ');
  // Rank on the entity rows (label, last change) the viewer may see, then load and present only the page:
  // a broad word has up to CANDIDATES hits, and presenting each whole record cost most of a search.
  const ranked: Array<{ module: string; id: number; score: number; modifiedAt: number }> = [];
  const presented = new Map<number, SearchHit & { score: number }>();
  for (const [module, ids] of byModule) {
    const view = views.get(module);
    if (!view) continue;
    const inIds = sql<SqlBool>`e.id in (${sql.join(ids)})`;
    if (view.meta.labelFields.some((f) => view.masked.has(f))) {
      // the stored label holds a value masked for this viewer: rank on the label they see
      for (const rec of await queryRecords(ctx, view, { where: [inIds] })) {
        const h = hit(view, rec, qWords, wholeQuery);
        presented.set(rec.id, h);
        ranked.push({ module, id: rec.id, score: h.score, modifiedAt: h.modifiedAt });
      }
      continue;
    }
    const rows = await ctx.db.kysely
      .selectFrom('crm_entities as e')
      .select(['e.id', 'e.label', 'e.modified_at'])
      .where(sql<SqlBool>`${sql.join(await visibleWhere(ctx, view, [inIds]), sql` and `)}`)
      .where('e.deleted_at', 'is', null)
      .execute();
    for (const r of rows)
      ranked.push({ module, id: r.id, score: labelScore(r.label, wholeQuery), modifiedAt: r.modified_at });
  }
  ranked.sort((a, b) => b.score - a.score || b.modifiedAt - a.modifiedAt || a.id - b.id);
  const page = ranked.slice(0, limit);
  const toLoad = new Map<string, number[]>();
  for (const r of page)
    if (!presented.has(r.id)) toLoad.set(r.module, [...(toLoad.get(r.module) ?? []), r.id]);
  for (const [module, ids] of toLoad) {
    const view = views.get(module)!;
    for (const rec of await queryRecords(ctx, view, { where: [sql<SqlBool>`e.id in (${sql.join(ids)})`] }))
      presented.set(rec.id, hit(view, rec, qWords, wholeQuery));
  }
  // a record changed or hidden between the two reads drops out rather than showing stale data
  return page.flatMap((r) => {
    const h = presented.get(r.id);
    return h ? [(({ score: _score, ...rest }) => rest)(h)] : [];
  });
}

/** 3: the whole name is the query; 2: the name starts with it; 1: the words are elsewhere. */
function labelScore(label: string, whole: string): number {
  const name = words(label).join(' ');
  return name === whole ? 3 : name.startsWith(whole) ? 2 : 1;
}

function hit(view: ModuleView, rec: PresentedRecord, qWords: string[], whole: string) {
  const score = labelScore(rec.label, whole);
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

/*
 * Both databases answer the same candidates: the newest CANDIDATES live records that match every word
 * (ranking then picks the page among them). Before, SQLite kept whichever matches its index met first and
 * PostgreSQL cut the first word's matches at the limit before the other words narrowed them, so a broad
 * search could show different records on the two.
 */

/** SQLite: one FTS5 query, every word a prefix of a token of an allowed (module, field), newest first. */
async function ftsCandidates(
  ctx: AppContext,
  qWords: string[],
  pairs: Array<[string, string]>,
  limit: number,
) {
  const res = await sql<Candidate>`select e.id as record_id, e.module from search_fts
    join crm_entities e on e.id = search_fts.rowid
    where search_fts match ${ftsQuery(qWords, pairs)} and e.deleted_at is null
    order by search_fts.rowid desc
    limit ${literalLimit(limit)}`.execute(ctx.db.kysely);
  return res.rows;
}

/** PostgreSQL: the terms table, a record kept when each word starts one of its allowed terms, newest first. */
async function termCandidates(
  ctx: AppContext,
  qWords: string[],
  pairs: Array<[string, string]>,
  limit: number,
) {
  const byModule = new Map<string, string[]>();
  for (const [m, f] of pairs) byModule.set(m, [...(byModule.get(m) ?? []), f]);
  const allowed = sql<SqlBool>`(${sql.join(
    [...byModule].map(([m, fields]) => sql<SqlBool>`(t.module = ${m} and t.field in (${sql.join(fields)}))`),
    sql` or `,
  )})`;
  const res = await sql<Candidate>`select e.id as record_id, e.module from crm_entities e
    where e.deleted_at is null and ${sql.join(
      qWords.map(
        (w) => sql`e.id in (select t.record_id from search_terms t where ${allowed} and ${termStarts(w)})`,
      ),
      sql` and `,
    )}
    order by e.id desc
    limit ${limit}`.execute(ctx.db.kysely);
  return res.rows;
}
