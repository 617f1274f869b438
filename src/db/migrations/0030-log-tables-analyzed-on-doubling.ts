import { type Kysely, sql } from 'kysely';
import type { DialectName } from '../database.js';

/**
 * Tables that are queues or logs — the webhook outbox (`webhook_events`), its deliveries, attempts and bodies,
 * and the domain events — are read only through indexes, by id, webhook, record or time; the planner needs
 * their sizes, which it scales from the table's pages by itself, not fresh value distributions. By
 * autovacuum's default rule (50 + 10 % of the rows changed) they were analyzed every few seconds while they
 * grew, ~60–150 ms of a backend's CPU each time (`docs/performance.md`, stop 57); now when their changes
 * reach the rows they hold (autovacuum's per-table setting, which `StatisticsKeeper` follows as well). The
 * record tables keep the default: lists, searches and filters choose plans by their distributions.
 * PostgreSQL only (SQLite has no such setting; Rapport never analyzes it).
 */
const LOG_TABLES = [
  'domain_events',
  'webhook_attempts',
  'webhook_deliveries',
  'webhook_events',
  'webhook_payloads',
] as const;

// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed against no schema
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  if (dialect !== 'postgres') return;
  for (const table of LOG_TABLES)
    await sql`alter table ${sql.table(table)} set (autovacuum_analyze_scale_factor = 1.0)`.execute(db);
}
