import { type CompiledQuery, type Kysely, type SqlBool, sql } from 'kysely';
import type { Database } from '../db/schema.js';
import type { ModuleMeta } from './module-meta.js';
import type { CrmRecord } from './record.model.js';
import { ENTITY_COLUMNS, recordQuery, rowsToRecords } from './record.repository.js';

/**
 * The single-record read (live record by id, with its owner's role path) compiled once per database and
 * module metadata object; each call runs the same SQL with a new id. A ModuleMeta is frozen and replaced
 * when a custom field is added, so a new field gets a new query. Memo only: keys are held weakly.
 */
const byIdQueries = new WeakMap<object, WeakMap<ModuleMeta, { query: CompiledQuery; idAt: number }>>();

function byIdQuery(db: Kysely<Database>, meta: ModuleMeta) {
  let perDb = byIdQueries.get(db);
  if (!perDb) {
    perDb = new WeakMap();
    byIdQueries.set(db, perDb);
  }
  let entry = perDb.get(meta);
  if (!entry) {
    const marker = { id: 'record-id' };
    const query = recordQuery(db, meta)
      .selectAll('m')
      .select([...ENTITY_COLUMNS])
      .leftJoin('users as _ou', '_ou.id', 'e.owner_id')
      .leftJoin('roles as _or', '_or.id', '_ou.role_id')
      .select('_or.path as _owner_role_path')
      .where(sql<SqlBool>`e.id = ${marker}`)
      .compile();
    entry = { query, idAt: query.parameters.indexOf(marker) };
    if (entry.idAt < 0) throw new Error('record-by-id query lost its id parameter');
    perDb.set(meta, entry);
  }
  return entry;
}

/** One live record by id with its owner's role path (for a sharing check in code), or undefined. */
export async function selectRecordById(
  db: Kysely<Database>,
  meta: ModuleMeta,
  id: number,
  ownerRolePaths: Map<number, string>,
): Promise<CrmRecord | undefined> {
  const { query, idAt } = byIdQuery(db, meta);
  const parameters = [...query.parameters];
  parameters[idAt] = id;
  const { rows } = await db.executeQuery<Record<string, unknown>>({ ...query, parameters });
  return (await rowsToRecords(db, meta, rows, ownerRolePaths))[0];
}
