import { type Migration, type MigrationProvider, Migrator, sql } from 'kysely';
import type { Db, DialectName } from './database.js';
import * as m0001 from './migrations/0001-foundation.js';
import * as m0002 from './migrations/0002-access-keys.js';
import * as m0003 from './migrations/0003-records.js';
import * as m0004 from './migrations/0004-webservices.js';
import * as m0005 from './migrations/0005-user-admin.js';
import * as m0006 from './migrations/0006-record-history-events.js';
import * as m0007 from './migrations/0007-challenge-tokens.js';
import * as m0008 from './migrations/0008-master-key-check.js';
import * as m0010 from './migrations/0010-field-masking.js';
import * as m0011 from './migrations/0011-webhooks.js';
import * as m0012 from './migrations/0012-mailroom.js';
import * as m0013 from './migrations/0013-reports.js';
import * as m0015 from './migrations/0015-lead-conversion.js';
import * as m0016 from './migrations/0016-search-terms.js';
import * as m0018 from './migrations/0018-webhook-delivery-indexes.js';
import * as m0020 from './migrations/0020-search-fts.js';
import * as m0021 from './migrations/0021-webhook-msg-id-index.js';
import * as m0022 from './migrations/0022-webhook-events.js';
import * as m0023 from './migrations/0023-domain-events-by-id.js';
import * as m0024 from './migrations/0024-rate-counts.js';
import * as m0025 from './migrations/0025-auth-version.js';
import * as m0026 from './migrations/0026-record-number-sequences.js';
import * as m0027 from './migrations/0027-live-records-by-owner.js';
import * as m0028 from './migrations/0028-webhook-payloads.js';
import * as m0029 from './migrations/0029-challenge-tokens-by-id.js';
import * as m0030 from './migrations/0030-log-tables-analyzed-on-doubling.js';
import * as m0031 from './migrations/0031-history-and-audit-analyzed-on-doubling.js';
import * as m0032 from './migrations/0032-audit-indexes-in-id-order.js';
import * as m0033 from './migrations/0033-claim-check-off-the-due-index.js';
import * as m0034 from './migrations/0034-webhook-messages-by-id.js';
import * as m0035 from './migrations/0035-webhook-failures-by-webhook.js';

export interface DialectMigration {
  // biome-ignore lint/suspicious/noExplicitAny: migrations are typed against no schema
  up(db: import('kysely').Kysely<any>, dialect: DialectName): Promise<void>;
}

/** Listed statically so the build needs no file-system discovery; names sort in order of application. */
export const MIGRATIONS: Readonly<Record<string, DialectMigration>> = {
  '0001-foundation': m0001,
  '0002-access-keys': m0002,
  '0003-records': m0003,
  '0004-webservices': m0004,
  '0005-user-admin': m0005,
  '0006-record-history-events': m0006,
  '0007-challenge-tokens': m0007,
  '0008-master-key-check': m0008,
  '0010-field-masking': m0010,
  '0011-webhooks': m0011,
  '0012-mailroom': m0012,
  '0013-reports': m0013,
  '0015-lead-conversion': m0015,
  '0016-search-terms': m0016,
  '0018-webhook-delivery-indexes': m0018,
  '0020-search-fts': m0020,
  '0021-webhook-msg-id-index': m0021,
  '0022-webhook-events': m0022,
  '0023-domain-events-by-id': m0023,
  '0024-rate-counts': m0024,
  '0025-auth-version': m0025,
  '0026-record-number-sequences': m0026,
  '0027-live-records-by-owner': m0027,
  '0028-webhook-payloads': m0028,
  '0029-challenge-tokens-by-id': m0029,
  '0030-log-tables-analyzed-on-doubling': m0030,
  '0031-history-and-audit-analyzed-on-doubling': m0031,
  '0032-audit-indexes-in-id-order': m0032,
  '0033-claim-check-off-the-due-index': m0033,
  '0034-webhook-messages-by-id': m0034,
  '0035-webhook-failures-by-webhook': m0035,
};

/** Names of the migrations this build knows that the database has not applied (empty when current). */
export async function pendingMigrations(db: Db): Promise<string[]> {
  const rows = await sql<{ name: string }>`select name from kysely_migration`.execute(db.kysely);
  const applied = new Set(rows.rows.map((r) => r.name));
  return Object.keys(MIGRATIONS).filter((name) => !applied.has(name));
}

async function appliedExactly(
  db: Db,
  migrations: Readonly<Record<string, DialectMigration>>,
): Promise<boolean> {
  let rows: Array<{ name: string }>;
  try {
    rows = (await sql<{ name: string }>`select name from kysely_migration`.execute(db.kysely)).rows;
  } catch {
    return false; // no migration table yet
  }
  const known = Object.keys(migrations);
  const applied = new Set(rows.map((r) => r.name));
  return applied.size === known.length && known.every((name) => applied.has(name));
}

class StaticProvider implements MigrationProvider {
  constructor(
    private readonly dialect: DialectName,
    private readonly migrations: Readonly<Record<string, DialectMigration>>,
  ) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    const out: Record<string, Migration> = {};
    for (const [name, m] of Object.entries(this.migrations))
      out[name] = { up: (db) => m.up(db, this.dialect) };
    return out;
  }
}

/** Applies every migration not yet applied; `migrations` is the static list (tests may add to it). */
export async function migrateToLatest(
  db: Db,
  migrations: Readonly<Record<string, DialectMigration>> = MIGRATIONS,
): Promise<string[]> {
  // the usual start: the database has applied exactly the migrations this build knows. One read then, not the
  // migrator's lock and its listing of every table (~15 ms of start-up). Anything else, the migrator decides
  // (a fresh database, migrations to apply, or one this build does not know, which it refuses).
  if (await appliedExactly(db, migrations)) return [];
  // the migrator's own tables live in this schema, named with it (its listing of tables sees only this schema:
  // see OneSchemaPostgresDialect)
  const schema =
    db.dialect === 'postgres'
      ? (await sql<{ s: string }>`select current_schema() as s`.execute(db.kysely)).rows[0]?.s
      : undefined;
  const migrator = new Migrator({
    db: db.kysely,
    ...(schema ? { migrationTableSchema: schema } : {}),
    provider: new StaticProvider(db.dialect, migrations),
    // features land on parallel branches; a later-numbered migration may be applied before an earlier one
    allowUnorderedMigrations: true,
    // names are ASCII with unique numeric prefixes: code-point order is theirs, and the default
    // (`localeCompare`) set up ICU's collator on every start (~15 ms)
    nameComparator: (a, b) => (a < b ? -1 : a > b ? 1 : 0),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
