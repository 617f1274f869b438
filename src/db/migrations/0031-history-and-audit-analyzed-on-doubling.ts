import { type Kysely, sql } from 'kysely';
import type { DialectName } from '../database.js';

/**
 * Two more logs for migration 0030's rule: a record's history (`record_changes`, read only by record id) and
 * the audit log (read by time, action, actor or target, each through its index). Every record write adds a
 * row to each, so by autovacuum's default rule they were analyzed every few seconds while a database grew:
 * the audit log's ANALYZE was the costliest of all, 150–440 ms of a backend's CPU each time on these machines,
 * and with a VACUUM beside it took both cores from the requests (`docs/performance.md`, stop 58). Now when
 * their changes reach the rows they hold. PostgreSQL only.
 */
const LOG_TABLES = ['audit_log', 'record_changes'] as const;

// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed against no schema
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  if (dialect !== 'postgres') return;
  for (const table of LOG_TABLES)
    await sql`alter table ${sql.table(table)} set (autovacuum_analyze_scale_factor = 1.0)`.execute(db);
}
