import { type Kysely, sql } from 'kysely';
import type pg from 'pg';
import { transaction } from './direct-transaction.js';
import type { Database } from './schema.js';

/** How often a serving process looks for tables whose statistics are stale, when autovacuum is off. */
const STATISTICS_CHECK_MS = 5_000;

/** A lock no two processes on one database hold at once: one analyzes, the others skip that round. */
const ANALYZE_LOCK = 0x5261_7070; // "Rapp"
/** The same for vacuuming (a session lock: VACUUM runs outside a transaction). */
const VACUUM_LOCK = 0x5261_7076; // "Rapv"

/**
 * This schema's tables that autovacuum would analyze or vacuum now, by its rule: `threshold + scale factor ×
 * rows` changed (analyze) or dead (vacuum), the rows as the last ANALYZE or VACUUM counted them
 * (`pg_class.reltuples`, as autovacuum reads them: counting the rows live now instead, a table that only grows
 * never reached a scale factor of 1), each from the table's own setting where it has one
 * (`alter table … set (autovacuum_analyze_scale_factor = …)`: migration 0030 sets one for the log tables), else
 * the server's; none of a table whose `autovacuum_enabled` is off. A table vacuumed less than `revisit` ago
 * is not due for VACUUM (see `vacuumRevisitMs`).
 */
function dueTables(kind: 'analyze' | 'vacuum', revisitMs?: number): string {
  const counted = kind === 'analyze' ? 's.n_mod_since_analyze' : 's.n_dead_tup';
  const option = (name: string) =>
    `max(option_value) filter (where option_name = 'autovacuum_${kind}_${name}') as ${name}`;
  return `select s.relname from pg_stat_user_tables s
    join pg_class c on c.oid = s.relid
    cross join lateral (select max(option_value) filter (where option_name = 'autovacuum_enabled') as enabled,
      ${option('threshold')}, ${option('scale_factor')} from pg_options_to_table(c.reloptions)) o
    where s.schemaname = current_schema() and coalesce(o.enabled, 'on')::boolean
      and ${counted} >= coalesce(o.threshold, current_setting('autovacuum_${kind}_threshold'))::float8
        + coalesce(o.scale_factor, current_setting('autovacuum_${kind}_scale_factor'))::float8
          * greatest(c.reltuples, 0)${kind === 'vacuum' ? revisited(revisitMs) : ''}
    order by s.relname`;
}

/** The condition that the table's last VACUUM (the keeper's or autovacuum's) is `revisitMs` ago or more. */
function revisited(revisitMs: number | undefined): string {
  const revisit =
    revisitMs === undefined
      ? `current_setting('autovacuum_naptime')::interval`
      : `${Math.max(0, Math.trunc(revisitMs))} * interval '1 millisecond'`;
  return `
      and coalesce(greatest(s.last_vacuum, s.last_autovacuum), '-infinity') <= now() - ${revisit}`;
}

/** A connection of the keeper's own for VACUUM: no statement timeout, this schema first in the search path. */
export type MaintenanceClient = Pick<pg.Client, 'connect' | 'query' | 'end' | 'on' | 'escapeIdentifier'>;

export interface StatisticsKeeperOptions {
  /** opens (unconnected) the connection a round of vacuuming runs on; it is ended after the round */
  maintenance: () => MaintenanceClient;
  /** problems worth an operator's attention: a round that failed (once until one succeeds) */
  warn?: (message: string) => void;
  /** the pause after every 200 units of a VACUUM's page work (autovacuum's default, 2 ms; tests slow it) */
  vacuumCostDelayMs?: number;
  /**
   * A table is vacuumed again only this long after its last VACUUM (default: `autovacuum_naptime`, the least
   * autovacuum waits before it looks at a database again). Rows a transaction's snapshot can still see (a long
   * report, a `pg_dump`) survive a VACUUM and stay counted dead, so by the rule alone the same table was due
   * again at once, and the keeper vacuumed it every round (5 s) for nothing while the snapshot lasted.
   */
  vacuumRevisitMs?: number;
}

/**
 * PostgreSQL plans every statement by its tables' statistics, which autovacuum keeps current (it ANALYZEs a
 * table once `50 + 10 %` of its rows changed). Without them a table that grew from empty still counts as
 * empty, and the plans are guesses: a page of ten records by id read and sorted all 1,200 of a module
 * (3.7 ms against 0.03 ms once analyzed), a list in its default order all 20,000 (`docs/performance.md`).
 *
 * Where autovacuum is off (these test machines; some hand-tuned servers), a serving process does that part
 * of its work for Rapport's own tables, by the same rule (`dueTables`), every STATISTICS_CHECK_MS: one
 * catalog query, and `ANALYZE` of the tables it names, under an advisory lock so replicas take turns. With
 * autovacuum on it does nothing. `track_counts` off leaves it nothing to go by, so it does nothing either.
 *
 * And the other part, by autovacuum's rule too: `VACUUM` of the tables with `50 + 20 %` of their rows dead
 * (or by their own settings, as above), no sooner than `autovacuum_naptime` after the table's last VACUUM.
 * Some tables are written and emptied all day (getchallenge tokens, sign-in attempts, webhook events): each
 * row is deleted a moment after it is written, and until a VACUUM its index entries stay, so every read of
 * a user's tokens or attempts passed all of that day's dead ones (`docs/performance.md`, stop 56). Like
 * autovacuum's, these VACUUMs go at a pace that leaves the cores to requests, skip a table someone holds a
 * lock on (the next round tries again), and run as long as they take: on a connection of their own, outside
 * the pool and its statement timeout (a large table takes minutes at that pace; cut short at the timeout, it
 * would start over every round and never finish), one at a time beside the rounds of analyzing, but never
 * computing at the same moment as one: a VACUUM round starts when an analyze round ends, and lets the next
 * round end before it takes its next table (the two at once took both cores of a small machine from the
 * requests; a single table's VACUUM under way still overlaps the next round).
 */
export class StatisticsKeeper {
  private timer: NodeJS.Timeout | undefined;
  private analyzing: Promise<unknown> | null = null;
  private vacuuming: Promise<unknown> | null = null;
  private told = false;
  /** each kind's last failure, warned once until one of its rounds succeeds (an outage fails every round) */
  private readonly failing = { statistics: null as string | null, vacuum: null as string | null };
  /** the backend running this process's VACUUM, while one runs: `stop` cancels it */
  private vacuumPid: number | null = null;
  private stopping = false;
  private readonly warn: (message: string) => void;

  constructor(
    private readonly kysely: Kysely<Database>,
    private readonly options: StatisticsKeeperOptions,
  ) {
    this.warn = options.warn ?? (() => {});
  }

  start(everyMs = STATISTICS_CHECK_MS): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.analyzing) return;
      this.analyzing = this.reported('statistics', async () => {
        if (!(await this.ours())) return;
        try {
          await this.analyzeTables();
        } finally {
          // after the analyzing (failed or not), not beside it: each takes a core while it computes, and on a
          // small machine the two together took both from the requests. A VACUUM may take minutes: it goes
          // on beside the next rounds' analyzing, one round at a time (between its tables it lets a round
          // in flight end).
          if (!this.vacuuming && !this.stopping)
            this.vacuuming = this.reported('vacuum', () => this.vacuumTables()).finally(() => {
              this.vacuuming = null;
            });
        }
      }).finally(() => {
        this.analyzing = null;
      });
    }, everyMs);
    this.timer.unref();
  }

  /** Ends the rounds; a VACUUM in flight is cancelled (it keeps what it did), not waited for. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.stopping = true;
    const pid = this.vacuumPid;
    if (pid !== null) await sql`select pg_cancel_backend(${pid})`.execute(this.kysely).catch(() => undefined);
    await Promise.all([this.analyzing, this.vacuuming]);
  }

  /** Runs a round, warning of its failure once until a round of the same kind succeeds. */
  private async reported(kind: 'statistics' | 'vacuum', round: () => Promise<unknown>): Promise<void> {
    try {
      await round();
      this.failing[kind] = null;
    } catch (err) {
      const message = (err as Error).message;
      if (message !== this.failing[kind]) this.warn(`PostgreSQL ${kind}: ${message}`);
      this.failing[kind] = message;
    }
  }

  /** Whether autovacuum's work is Rapport's: autovacuum off, and the counts it would go by kept. */
  private async ours(): Promise<boolean> {
    const settings = await sql<{ autovacuum: string; track_counts: string }>`select
      current_setting('autovacuum') as autovacuum, current_setting('track_counts') as track_counts`.execute(
      this.kysely,
    );
    const s = settings.rows[0];
    return !!s && s.autovacuum !== 'on' && s.track_counts === 'on';
  }

  /** Vacuums this schema's tables that autovacuum would have (none when it is on); their names. */
  async vacuumOnce(): Promise<string[]> {
    if (this.stopping || !(await this.ours())) return [];
    return this.vacuumTables();
  }

  /**
   * Analyzes this schema's tables that autovacuum would have (none when it is on); their names, a table
   * skipped because someone held a lock on it included.
   */
  async analyzeOnce(): Promise<string[]> {
    if (!(await this.ours())) return [];
    return this.analyzeTables();
  }

  /**
   * VACUUM of the tables with enough dead rows, one after another on the keeper's own connection, under a
   * session advisory lock so replicas take turns (ending the connection releases it). A table someone holds
   * a lock on is skipped (`SKIP_LOCKED`, as autovacuum does) and left out of the names.
   */
  private async vacuumTables(): Promise<string[]> {
    // a connection is opened only when there is something to vacuum (most rounds have nothing)
    const due = (
      await sql
        .raw<{ relname: string }>(dueTables('vacuum', this.options.vacuumRevisitMs))
        .execute(this.kysely)
    ).rows;
    if (due.length === 0) return [];
    const client = this.options.maintenance();
    // a lost connection fails the statement in flight; this only keeps the event from being unhandled
    client.on('error', () => {});
    // SKIP_LOCKED's notice for the table in hand (one per statement): "skipping vacuum of … lock not available"
    let skipped = false;
    client.on('notice', (notice) => {
      if (notice.code === '55P03') skipped = true;
    });
    const done: string[] = [];
    try {
      await client.connect();
      // The backend's pid (for `stop`), autovacuum's pace (a pause after every 200 units of page work, so
      // the requests meanwhile keep the cores) and the lock, in one round trip
      const me = await client.query<{ pid: number; ok: boolean }>(
        `select pg_backend_pid() as pid, set_config('vacuum_cost_delay', $1, false) is not null
          and pg_try_advisory_lock($2) as ok`,
        [`${this.options.vacuumCostDelayMs ?? 2}ms`, VACUUM_LOCK],
      );
      if (!me.rows[0]?.ok) return done;
      this.vacuumPid = me.rows[0].pid;
      for (const { relname } of due) {
        // a round of analyzing under way ends first (it takes seconds at most; see `start`)
        while (this.analyzing && !this.stopping) await this.analyzing;
        if (this.stopping) break;
        skipped = false;
        await client.query(`vacuum (skip_locked) ${client.escapeIdentifier(relname)}`);
        if (!skipped) done.push(relname);
      }
      return done;
    } catch (err) {
      // cancelled by `stop`: the process is shutting down, nothing to report
      if (this.stopping) return done;
      throw err;
    } finally {
      this.vacuumPid = null;
      await client.end().catch(() => undefined);
    }
  }

  private analyzeTables(): Promise<string[]> {
    return transaction(this.kysely, async (trx) => {
      const lock = await sql<{
        ok: boolean;
      }>`select pg_try_advisory_xact_lock(${ANALYZE_LOCK}) as ok`.execute(trx);
      if (!lock.rows[0]?.ok) return [];
      const stale = await sql.raw<{ relname: string }>(dueTables('analyze')).execute(trx);
      const names = stale.rows.map((r) => r.relname);
      if (names.length > 0 && !this.told) {
        this.told = true;
        this.warn(
          'PostgreSQL autovacuum is off: Rapport analyzes its own tables when they change (docs/operations.md)',
        );
      }
      // a table a VACUUM (this process's, beside this round) or a schema change holds is skipped, not
      // waited for: it stays stale for a later round
      for (const name of names) await sql`analyze (skip_locked) ${sql.id(name)}`.execute(trx);
      return names;
    });
  }
}
