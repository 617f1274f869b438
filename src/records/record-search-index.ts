import { CompiledQuery, type Expression, type Kysely, type SqlBool, sql, type Transaction } from 'kysely';
import type { AppContext } from '../context.js';
import type { Db, DialectName } from '../db/database.js';
import { writeDeferred } from '../db/deferred-inserts.js';
import { transaction } from '../db/direct-transaction.js';
import { preparedInsert } from '../db/prepared.js';
import type { Database } from '../db/schema.js';
import { contextInTransaction } from '../db/unit-of-work.js';
import type { StoredEvent } from '../events/event.model.js';
import type { EventSubscriber } from '../events/event-bus.js';
import type { FieldValue } from './field-coerce.js';
import { listModuleMetas, type ModuleMeta, moduleMetaFor } from './module-meta.js';
import type { CrmRecord } from './record.model.js';
import { selectRecords } from './record.repository.js';

type Q = Kysely<Database> | Transaction<Database>;

/** Longer words are indexed by their first MAX_TERM characters. */
const MAX_TERM = 100;

/** Lower-case, accents folded: "Zoë" and "zoe" are the same word. */
export function normalize(s: string): string {
  return s
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase();
}

/** The words a search for `text` looks for: letters and digits runs, normalized. */
export function words(text: string): string[] {
  return normalize(text).match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** Text fields that name or identify a record beyond its label: a lead's company, a product's part number. */
const IDENTIFYING_FIELDS = ['company', 'productcode', 'ticket_title', 'subject', 'accountname'];

/**
 * The fields searches look in — the global search and a list's `q=` (the reference picker) alike: names
 * (label fields), emails, phones, the record number and a few identifying text fields.
 */
export function searchableFields(meta: ModuleMeta): string[] {
  const names = new Set<string>(meta.labelFields);
  for (const f of meta.fields)
    if (f.type === 'email' || f.type === 'phone' || IDENTIFYING_FIELDS.includes(f.name)) names.add(f.name);
  if (meta.numberField) names.add(meta.numberField.name);
  return [...names].filter((n) => meta.fieldMap.has(n));
}

/** The smallest string greater than every string starting with `prefix` (code-point order). */
function upperBound(prefix: string): string {
  const last = prefix.codePointAt(prefix.length - 1)!;
  const head = prefix.slice(0, prefix.length - (last > 0xffff ? 2 : 1));
  return head + String.fromCodePoint(last + 1);
}

/** An index term of alias `t` starts with `word` (one range of the term index on both databases). */
export function termStarts(word: string): Expression<SqlBool> {
  return sql<SqlBool>`(t.term >= ${word} and t.term < ${upperBound(word)})`;
}

/** At most this many words of a query are looked for. */
export const MAX_QUERY_WORDS = 6;

/** The distinct words of what a person typed, at most MAX_QUERY_WORDS. */
export function queryWords(query: string): string[] {
  return [...new Set(words(query))].slice(0, MAX_QUERY_WORDS);
}

/**
 * The records of `module` (alias `e`) that have, for every word of `query`, a word starting with it in one of
 * `fields` — the matcher of a list's `q=`, the same index and semantics as the global search. A query with
 * no letters or digits matches nothing.
 */
export function termsMatch(
  dialect: DialectName,
  module: string,
  fields: string[],
  query: string,
): Expression<SqlBool> {
  const qWords = queryWords(query);
  if (qWords.length === 0 || fields.length === 0) return sql<SqlBool>`1 = 0`;
  if (dialect === 'sqlite')
    return sql<SqlBool>`e.id in (select rowid from search_fts where search_fts match ${ftsQuery(
      qWords,
      fields.map((f) => [module, f]),
    )})`;
  return sql<SqlBool>`(${sql.join(
    qWords.map(
      (w) =>
        sql`e.id in (select t.record_id from search_terms t where t.module = ${module} and t.field in (${sql.join(fields)}) and ${termStarts(w)})`,
    ),
    sql` and `,
  )})`;
}

/**
 * SQLite (FTS5): a record's words are tokens `module.field.word` (lower case; `.` and `_` are token
 * characters, words are letters and digits only), so a query can name the fields it may look in.
 */
function ftsToken(module: string, field: string, word = ''): string {
  const tag = (s: string) => s.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  return `${tag(module)}.${tag(field)}.${word}`;
}

/** An FTS5 query: every word starts a token of one of `where`'s (module, field) pairs. */
export function ftsQuery(qWords: string[], where: Array<[string, string]>): string {
  return qWords
    .map((w) => `(${where.map(([m, f]) => `"${ftsToken(m, f, w)}"*`).join(' OR ')})`)
    .join(' AND ');
}

function termsOfValue(type: string | undefined, value: FieldValue): string[] {
  if (value === null || value === '' || typeof value === 'boolean') return [];
  const text = String(value);
  const out = new Set<string>(words(text));
  if (type === 'email') out.add(normalize(text.trim()));
  if (type === 'phone') {
    const digits = text.replace(/\D+/g, '');
    // the number as dialled, and without its country/area prefix (the last 7+ digits)
    if (digits.length >= 3) out.add(digits);
    for (let i = 1; digits.length - i >= 7; i++) out.add(digits.slice(i));
  }
  return [...out].filter((t) => t.length > 0).map((t) => t.slice(0, MAX_TERM));
}

/** The index rows of one record. */
export function termsOf(meta: ModuleMeta, rec: Pick<CrmRecord, 'id' | 'fields'>) {
  const rows: Array<{ record_id: number; module: string; field: string; term: string }> = [];
  for (const field of searchableFields(meta)) {
    const type = meta.fieldMap.get(field)?.type;
    for (const term of termsOfValue(type, rec.fields[field] ?? null))
      rows.push({ record_id: rec.id, module: meta.name, field, term });
  }
  return rows;
}

const insertTermRows = preparedInsert('search_terms', ['record_id', 'module', 'field', 'term']);
const WORD = /^[\p{L}\p{N}]+$/u;
const FTS_DELETE = 'delete from search_fts where rowid = ?';
const FTS_INSERT = 'insert into search_fts (rowid, terms) values (?, ?)';

/**
 * Replaces the index entries of `recs`; `fresh` records were created in this change and have none yet.
 * PostgreSQL: rows of the terms table. SQLite: one FTS5 row per record.
 */
async function replaceTerms(
  db: Q,
  dialect: DialectName,
  metas: Map<string, ModuleMeta>,
  recs: CrmRecord[],
  fresh: ReadonlySet<number> = new Set(),
): Promise<void> {
  if (recs.length === 0) return;
  const ids = recs.map((r) => r.id).filter((id) => !fresh.has(id));
  const live = recs.filter((r) => r.deletedAt === null && metas.has(r.module));
  if (dialect === 'sqlite') {
    // SQLite-only statements, run as written: nothing for Kysely to build on a record write's hot path
    for (const id of ids) await db.executeQuery(CompiledQuery.raw(FTS_DELETE, [id]));
    for (const r of live) {
      // a token is letters and digits after its tag: an email's whole address (word by word already) is left out
      const tokens = termsOf(metas.get(r.module)!, r)
        .filter((t) => WORD.test(t.term))
        .map((t) => ftsToken(t.module, t.field, t.term));
      if (tokens.length) await db.executeQuery(CompiledQuery.raw(FTS_INSERT, [r.id, tokens.join(' ')]));
    }
    return;
  }
  // in a PostgreSQL transaction these go with the next statement (nothing reads their result)
  for (let i = 0; i < ids.length; i += 500)
    await writeDeferred(db, db.deleteFrom('search_terms').where('record_id', 'in', ids.slice(i, i + 500)));
  await insertTermRows(
    db,
    live.flatMap((r) => termsOf(metas.get(r.module)!, r)),
  );
}

/** Empties the index (the next rebuild fills it again). */
export async function clearSearchIndex(db: Db): Promise<void> {
  if (db.dialect === 'sqlite') await sql`delete from search_fts`.execute(db.kysely);
  else await db.kysely.deleteFrom('search_terms').execute();
}

/**
 * Keeps the index in step with records: a subscriber to record events that writes in the transaction of
 * the change, so a search never finds a record as it was before a committed change, whichever channel made it.
 */
export function searchIndexer(ctx: AppContext): EventSubscriber {
  return {
    name: 'search-index',
    async inTransaction(uow, events: readonly StoredEvent[]) {
      const recs = new Map<number, CrmRecord>();
      const fresh = new Set<number>();
      for (const e of events) {
        if (!e.type.startsWith('record.')) continue;
        const rec = e.payload.record as CrmRecord | undefined;
        if (!rec) continue;
        if (e.type === 'record.created') fresh.add(rec.id);
        recs.set(rec.id, rec);
      }
      if (recs.size === 0) return;
      // module metadata from the cache (a record write must not pay a metadata query), read in the transaction
      const tctx = contextInTransaction(ctx, uow.trx);
      const metas = new Map<string, ModuleMeta>();
      for (const r of recs.values())
        if (!metas.has(r.module)) metas.set(r.module, await moduleMetaFor(tctx, r.module));
      await replaceTerms(uow.trx, ctx.db.dialect, metas, [...recs.values()], fresh);
    },
  };
}

const INDEX_VERSION_KEY = 'search_index_version';
/** Raise when `termsOf` changes: the next start rebuilds the index. */
const INDEX_VERSION = '2';

/**
 * Rebuilds the index when it was built by another version of `termsOf` (or never, as after the upgrade
 * that added it). Runs at start-up, in pages of 1,000 records, each page its own transaction.
 */
export async function rebuildSearchIndexIfStale(ctx: AppContext): Promise<number> {
  const db = ctx.db.kysely;
  const current = await db
    .selectFrom('settings')
    .select('value')
    .where('key', '=', INDEX_VERSION_KEY)
    .executeTakeFirst();
  if (current?.value === INDEX_VERSION) return 0;
  let count = 0;
  for (const meta of await listModuleMetas(db)) {
    let after = 0;
    for (;;) {
      const page = await selectRecords(db, meta, [sql<SqlBool>`e.id > ${after}`], {
        order: [{ expr: sql.ref('e.id'), desc: false }],
        limit: 1000,
      });
      if (page.length === 0) break;
      await transaction(db, (trx) => replaceTerms(trx, ctx.db.dialect, new Map([[meta.name, meta]]), page));
      after = page.at(-1)!.id;
      count += page.length;
    }
  }
  await transaction(db, async (trx) => {
    await trx.deleteFrom('settings').where('key', '=', INDEX_VERSION_KEY).execute();
    await trx
      .insertInto('settings')
      .values({
        key: INDEX_VERSION_KEY,
        value: INDEX_VERSION,
        updated_at: ctx.clock.now(),
        updated_by_user_id: null,
      })
      .execute();
  });
  return count;
}
