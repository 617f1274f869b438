import { type Kysely, sql } from 'kysely';
import type { DialectName } from '../database.js';

/**
 * SQLite's search index moves to FTS5. The terms table (0016) put each of a record's ~12 words on its own
 * page of a B-tree index, so a created contact wrote ~20 WAL pages instead of 2; a contentless FTS5 table
 * buffers a transaction's tokens and writes them as one segment. One row per record (rowid = record id),
 * its tokens `module.field.word` so a search can name the fields it may look in. The terms are rebuilt at
 * the next start (the index version changes with this release). PostgreSQL keeps the terms table.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed against no schema
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  if (dialect !== 'sqlite') return;
  await sql`create virtual table search_fts using fts5(
    terms,
    content = '',
    contentless_delete = 1,
    tokenize = "unicode61 remove_diacritics 0 tokenchars '._'"
  )`.execute(db);
  await db.schema.dropTable('search_terms').execute();
}
