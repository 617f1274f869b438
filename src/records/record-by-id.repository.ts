import { type Kysely, type SqlBool, sql } from 'kysely';
import { prepared } from '../db/prepared.js';
import type { Database } from '../db/schema.js';
import type { ModuleMeta } from './module-meta.js';
import type { CrmRecord } from './record.model.js';
import { recordQuery, rowsToRecords, selectRecordColumns } from './record.repository.js';

/**
 * The single-record read (live record by id, with its owner's role path), prepared once per module
 * metadata object (see `prepared`). A ModuleMeta is frozen and replaced when a custom field is added, so a
 * new field gets a new query. Memo only: keys are held weakly.
 */
const byIdQueries = new WeakMap<ModuleMeta, ReturnType<typeof byIdQueryFor>>();

function byIdQueryFor(meta: ModuleMeta) {
  return prepared((db, id: number) =>
    selectRecordColumns(db, meta, recordQuery(db, meta), true).where(sql<SqlBool>`e.id = ${id}`),
  );
}

function byIdQuery(meta: ModuleMeta) {
  let q = byIdQueries.get(meta);
  if (!q) {
    q = byIdQueryFor(meta);
    byIdQueries.set(meta, q);
  }
  return q;
}

/** One live record by id with its owner's role path (for a sharing check in code), or undefined. */
export async function selectRecordById(
  db: Kysely<Database>,
  meta: ModuleMeta,
  id: number,
  ownerRolePaths: Map<number, string>,
): Promise<CrmRecord | undefined> {
  const { rows } = (await byIdQuery(meta)(db, id)) as { rows: Record<string, unknown>[] };
  return (await rowsToRecords(db, meta, rows, ownerRolePaths))[0];
}
