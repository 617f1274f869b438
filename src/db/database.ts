import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type pg from 'pg';
import { markConnectFailure } from './db-errors.js';
import { deferInserts } from './deferred-inserts.js';
import { enableDirectTransactions, resultsPassThrough } from './direct-transaction.js';
import { GroupCommit } from './group-commit.js';
import { LiteralLimits } from './literal-limits.js';
import { OneSchemaPostgresDialect } from './pg-introspector.js';
import { SharedReads, SharingPool } from './pg-shared-reads.js';
import { coalesceWrites, PgStatementNames } from './pg-statements.js';
import { StatisticsKeeper } from './pg-statistics.js';
import type { Database } from './schema.js';
import { type Checkpointer, startCheckpointer } from './sqlite-checkpointer.js';
import { SqliteReadPool } from './sqlite-read-pool.js';
import { RawRowStatement, TurnSnapshot } from './sqlite-rows.js';

export type DialectName = 'sqlite' | 'postgres';

export type DatabaseTarget =
  | {
      kind: 'sqlite';
      file: string;
      busyTimeoutMs?: number;
      /** the group commit's limits (see GroupCommit; tests set them) */
      groupCommit?: { maxUnits?: number; maxMs?: number };
      /** false: every read outside a transaction is a read transaction of its own (see TurnSnapshot) */
      turnSnapshot?: boolean;
    }
  | {
      kind: 'postgres';
      url: string;
      schema?: string;
      poolSize?: number;
      /** how long to wait for a connection (new or from a full pool) before answering 503 */
      connectTimeoutMs?: number;
      /** longest a statement may run (server side) or wait for an answer (client side) */
      statementTimeoutMs?: number;
      /** connections besides the pool that single reads share (see SharedReads); 0 turns sharing off */
      sharedReadConnections?: number;
      /** the named statements' bookkeeping (tests give one with small bounds) */
      statementNames?: PgStatementNames;
    };

export interface Db {
  kysely: Kysely<Database>;
  dialect: DialectName;
  /** errors of idle connections (a restart, failover or network blip): reported here, never thrown */
  onConnectionError(listener: (err: Error) => void): void;
  /**
   * a serving process's upkeep (SQLite: checkpoints on a worker thread; PostgreSQL: planner statistics
   * where autovacuum is off, `StatisticsKeeper`); CLI commands do without
   */
  startBackgroundWork?(): void;
  /**
   * PostgreSQL: a new client outside the pool, for a LISTEN connection that must stay open (not
   * connected yet). `scope` names this database's schema, so processes on other schemas of the same
   * database (tests) ignore each other's notifications.
   */
  listener?: { create(): pg.Client; scope: string };
  /**
   * PostgreSQL: a new client outside the pool (not connected yet) with no statement timeout, for the VACUUMs
   * of `StatisticsKeeper`, which take as long as they take
   */
  maintenance?: () => pg.Client;
  /**
   * SQLite on a file: worker threads with read-only connections for long reads under a time limit
   * (reports), so they never hold the event loop. Absent for an in-memory database, which a worker
   * cannot open (tests): those reads run on the serving connection.
   */
  readPool?: SqliteReadPool;
  /** SQLite: the read transaction the plain reads of one event-loop turn share (see `TurnSnapshot`) */
  turnSnapshot?: TurnSnapshot;
  /** SQLite: units of work that queue while one runs commit together (see `GroupCommit`) */
  groupCommit?: GroupCommit;
  /**
   * PostgreSQL: another process may have changed the schema (a custom field): prepared statements are
   * prepared afresh (see `PgStatementNames`). This process's own DDL is noticed without it.
   */
  schemaChanged?(): void;
  /** PostgreSQL with shared reads: single reads outside a transaction so far, by where they ran */
  readStats?: { readonly shared: number; readonly pool: number };
  close(): Promise<void>;
}

/** int8 (bigint) carries our epoch-millisecond timestamps and counts; they fit a JS number. */
const PG_INT8_OID = 20;

export interface OpenOptions {
  /** problems worth an operator's attention that do not stop the database (the checkpoint worker failed) */
  warn?: (message: string) => void;
}

/** The write-ahead log size at which the checkpoint worker starts (64 pages). */
const CHECKPOINTER_AFTER_WAL_BYTES = 256 * 1024;

/** bytes of write-ahead log SQLite keeps on disk when it starts the log over (`journal_size_limit`) */
export const WAL_SIZE_LIMIT = 64 * 1024 * 1024;

export function openDatabase(target: DatabaseTarget, opts: OpenOptions = {}): Db {
  if (target.kind === 'sqlite') {
    if (target.file !== ':memory:') fs.mkdirSync(path.dirname(target.file), { recursive: true });
    const sqlite = new SQLite(target.file);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    // Under sustained writes the log is never fully copied back between two write transactions, so SQLite
    // cannot start it over and it grows (2.3 GB after a 30 s create flood on a 173 MB database). It starts
    // over once the writes pause; this makes that restart also give the file back, down to 64 MB.
    sqlite.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT}`);
    // a writer holding the lock longer than this makes the request a 503 DATABASE_UNAVAILABLE
    sqlite.pragma(`busy_timeout = ${Math.round(target.busyTimeoutMs ?? 5000)}`);
    const turnSnapshot = target.turnSnapshot === false ? undefined : new TurnSnapshot(sqlite);
    const dialect = new SqliteDialect({ database: withStatementCache(sqlite, turnSnapshot) });
    const kysely = new Kysely<Database>({ dialect, plugins: [resultsPassThrough(new LiteralLimits())] });
    enableDirectTransactions(kysely, dialect);
    let checkpointer: Checkpointer | null = null;
    let walWatch: NodeJS.Timeout | undefined;
    const readPool =
      target.file === ':memory:'
        ? undefined
        : new SqliteReadPool(target.file, { busyTimeoutMs: target.busyTimeoutMs ?? 5000 });
    return {
      kysely,
      dialect: 'sqlite',
      readPool,
      turnSnapshot,
      groupCommit: new GroupCommit(kysely, () => sqlite.inTransaction, target.groupCommit),
      onConnectionError: () => {},
      startBackgroundWork() {
        if (checkpointer || walWatch || target.file === ':memory:') return;
        // the checkpoint worker (a thread, ~17 MB) starts once the log has grown: a server that only
        // reads never needs it, and until then the serving connection keeps SQLite's own checkpoints
        // (every 1,000 pages, far above the threshold)
        walWatch = setInterval(() => {
          fs.stat(`${target.file}-wal`, (err, st) => {
            if (err || st.size < CHECKPOINTER_AFTER_WAL_BYTES || !walWatch) return;
            clearInterval(walWatch);
            walWatch = undefined;
            checkpointer = startCheckpointer(sqlite, target.file, {
              onError: (message) =>
                opts.warn?.(
                  `SQLite checkpoints: ${message} (the serving connection checkpoints by itself again)`,
                ),
            });
          });
        }, 250);
        walWatch.unref();
      },
      async close() {
        clearInterval(walWatch);
        walWatch = undefined;
        await readPool?.close();
        await checkpointer?.stop();
        await kysely.destroy();
      },
    };
  }
  const statementTimeout = Math.round(target.statementTimeoutMs ?? 30_000);
  // loaded here, not at the top: a server on SQLite never holds the PostgreSQL driver (~2 MB of heap)
  const driver = createRequire(import.meta.url)('pg') as typeof pg;
  const clientConfig: pg.ClientConfig = {
    connectionString: target.url,
    connectionTimeoutMillis: Math.round(target.connectTimeoutMs ?? 5000),
    // a server that stops answering (network cut, not a closed socket) must not hold requests forever
    query_timeout: statementTimeout + 5000,
    keepAlive: true,
    // the pool keeps its connections (below): TCP keepalives from 10 s of quiet on keep a firewall's or NAT's
    // idle timer from dropping one unnoticed, and notice it when something does
    keepAliveInitialDelayMillis: 10_000,
    // statements sent together (a transaction's BEGIN with its first statement, its last inserts with the
    // COMMIT: see deferInserts; the shared connection's reads) go without waiting for each other's answers,
    // in one write (inOneWrite)
    pipeline: true,
    options: [
      `-c statement_timeout=${statementTimeout}`,
      target.schema ? `-c search_path=${target.schema}` : '',
    ].join(' '),
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === PG_INT8_OID
          ? (v: string) => Number(v)
          : driver.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
    },
  };
  // A connection once opened stays open (no idle timeout; pg's default closed one after 10 s of rest): a new one
  // costs its backend's start and, for each statement, a parse and plan its predecessor had kept, and catalog
  // caches to fill, so a burst after a quiet spell ran ~30 % slower, its slowest requests twice as slow
  // (docs/performance.md, "The pool's idle connections"). A fixed-size pool, as HikariCP keeps by default.
  const pool = new driver.Pool({ ...clientConfig, max: target.poolSize ?? 10, idleTimeoutMillis: 0 });
  // Without a listener, an idle connection that the server ends (restart, pg_terminate_backend, failover)
  // is an unhandled 'error' event that kills the process. The pool drops that connection by itself.
  const listeners: ((err: Error) => void)[] = [];
  pool.on('error', (err) => {
    for (const l of listeners) l(err);
  });
  const statements = target.statementNames ?? new PgStatementNames();
  pool.on('connect', (client) => {
    // The pool listens only while a connection is idle: one lost while checked out (mid-query, or between
    // a transaction's statements) emits 'error' with nobody listening, and that kills the process. The
    // query itself is rejected with the same error, and the pool drops the connection when it comes back
    // (it is no longer queryable); this listener only keeps the event from being unhandled.
    client.on('error', () => {});
    statements.attach(client);
    coalesceWrites(client);
  });
  // errors while connecting mean "unreachable", whatever SQLSTATE they carry (e.g. REVOKE CONNECT → 42501)
  const connect = pool.connect.bind(pool);
  pool.connect = ((callback?: Parameters<typeof pool.connect>[0]) =>
    callback
      ? connect(callback)
      : connect().catch((err: unknown) => {
          throw markConnectFailure(err);
        })) as typeof pool.connect;
  // single reads share a few more connections, outside the pool (see SharedReads)
  const sharedConnections = target.sharedReadConnections ?? 2;
  const sharing =
    sharedConnections > 0
      ? new SharingPool(
          pool,
          new SharedReads(() => {
            // named, so an operator tells them from the pool's in pg_stat_activity
            const client = new driver.Client({ ...clientConfig, application_name: 'rapport-reads' });
            statements.attach(client);
            return client;
          }, sharedConnections),
        )
      : null;
  // a transaction's INSERTs go to the server together (see deferInserts); introspection (the migrator's)
  // sees this schema only, so other schemas' changes cannot fail it
  const dialect = new OneSchemaPostgresDialect({
    pool: sharing ?? pool,
    onCreateConnection: async (connection) => deferInserts(connection),
  });
  const kysely = new Kysely<Database>({ dialect, plugins: [resultsPassThrough(new LiteralLimits())] });
  enableDirectTransactions(kysely, dialect);
  // VACUUM's own connection: outside the pool, whose statement timeout would cut a large table's short
  const maintenance = () =>
    new driver.Client({
      connectionString: target.url,
      application_name: 'rapport-maintenance',
      connectionTimeoutMillis: Math.round(target.connectTimeoutMs ?? 5000),
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      options: ['-c statement_timeout=0', target.schema ? `-c search_path=${target.schema}` : ''].join(' '),
    });
  const statistics = new StatisticsKeeper(kysely, { maintenance, warn: opts.warn });
  return {
    kysely,
    dialect: 'postgres',
    onConnectionError: (l) => listeners.push(l),
    startBackgroundWork: () => statistics.start(),
    schemaChanged: () => statements.schemaChanged(),
    readStats: sharing?.shared.stats,
    maintenance,
    listener: {
      scope: target.schema ?? '',
      create: () =>
        new driver.Client({
          connectionString: target.url,
          application_name: 'rapport-listener',
          connectionTimeoutMillis: Math.round(target.connectTimeoutMs ?? 5000),
          keepAlive: true,
          keepAliveInitialDelayMillis: 10_000,
          query_timeout: 5000,
        }),
    },
    async close() {
      await statistics.stop();
      await kysely.destroy();
    },
  };
}

/**
 * Kysely prepares every query anew; on SQLite preparing costs more than running a short query. Kysely
 * compiles the same SQL text for the same query shape, so prepared statements are cached by that text.
 * Readers return rows through RawRowStatement (faster on wide rows); DDL marks their column lists stale.
 * Plain reads share the turn's read snapshot; any other statement ends it before it runs (`TurnSnapshot`).
 */
function withStatementCache(sqlite: SQLite.Database, snapshot: TurnSnapshot | undefined, max = 500) {
  const cache = new Map<string, SQLite.Statement | RawRowStatement>();
  return {
    close: () => sqlite.close(),
    prepare(sql: string) {
      let stmt = cache.get(sql);
      if (stmt) {
        cache.delete(sql);
      } else {
        if (/^\s*(alter|create|drop)\b/i.test(sql))
          for (const s of cache.values()) if (s instanceof RawRowStatement) s.schemaChanged();
        const prepared = sqlite.prepare(sql);
        stmt = prepared.reader ? new RawRowStatement(prepared, snapshot) : prepared;
        if (cache.size >= max) cache.delete(cache.keys().next().value as string);
      }
      cache.set(sql, stmt);
      // Kysely runs what it prepares at once: anything but a reader ends the turn's read snapshot first
      if (!(stmt instanceof RawRowStatement)) snapshot?.end();
      return stmt;
    },
  };
}
