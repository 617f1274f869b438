import { type Kysely, sql } from 'kysely';
import { transaction } from './direct-transaction.js';
import type { Database } from './schema.js';

/** How often a serving process looks for tables whose statistics are stale, when autovacuum is off. */
const STATISTICS_CHECK_MS = 5_000;

/** A lock no two processes on one database hold at once: one analyzes, the others skip that round. */
const ANALYZE_LOCK = 0x5261_7070; // "Rapp"
/** The same for vacuuming (a session lock: VACUUM runs outside a transaction). */
const VACUUM_LOCK = 0x5261_7076; // "Rapv"

/**
 * PostgreSQL plans every statement by its tables' statistics, which autovacuum keeps current (it ANALYZEs a
 * table once `50 + 10 %` of its rows changed). Without them a table that grew from empty still counts as
 * empty, and the plans are guesses: a page of ten records by id read and sorted all 1,200 of a module
 * (3.7 ms against 0.03 ms once analyzed), a list in its default order all 20,000 (`docs/performance.md`).
 *
 * Where autovacuum is off (these test machines; some hand-tuned servers), a serving process does that part
 * of its work for Rapport's own tables, by the same rule, every STATISTICS_CHECK_MS: one catalog query,
 * and `ANALYZE` of the tables it names, under an advisory lock so replicas take turns. With autovacuum on
 * it does nothing. `track_counts` off leaves it nothing to go by, so it does nothing either.
 *
 * And the other part, by autovacuum's rule too: `VACUUM` of the tables with `50 + 20 %` of their rows dead.
 * Some tables are written and emptied all day (getchallenge tokens, sign-in attempts, webhook events): each
 * row is deleted a moment after it is written, and until a VACUUM its index entries stay, so every read of
 * a user's tokens or attempts passed all of that day's dead ones (`docs/performance.md`, stop 56).
 */
export class StatisticsKeeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | null = null;
  private told = false;
  /** the last failure's message, warned once until a round succeeds (a database outage fails every round) */
  private failing: string | null = null;
  /** the backend running this process's VACUUM, while one runs: `stop` cancels it */
  private vacuumPid: number | null = null;
  private stopping = false;

  constructor(
    private readonly kysely: Kysely<Database>,
    private readonly warn: (message: string) => void = () => {},
  ) {}

  start(everyMs = STATISTICS_CHECK_MS): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.runOnce()
        .then(() => this.vacuumOnce())
        .then(
          () => {
            this.failing = null;
          },
          (err: unknown) => {
            const message = (err as Error).message;
            if (message !== this.failing) this.warn(`PostgreSQL statistics: ${message}`);
            this.failing = message;
          },
        )
        .finally(() => {
          this.running = null;
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
    await this.running;
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
    // VACUUM cannot run in a transaction: one connection, and a session lock released on it
    return this.kysely.connection().execute(async (conn) => {
      const lock = await sql<{ ok: boolean }>`select pg_try_advisory_lock(${VACUUM_LOCK}) as ok`.execute(
        conn,
      );
      if (!lock.rows[0]?.ok) return [];
      try {
        const dead = await sql<{ relname: string }>`select relname from pg_stat_user_tables
          where schemaname = current_schema() and n_dead_tup >= 50 + 0.2 * greatest(n_live_tup, 0)
          order by relname`.execute(conn);
        const names = dead.rows.map((r) => r.relname);
        if (names.length === 0) return names;
        // At autovacuum's pace (its default cost delay: a pause after every 200 units of page work), so the
        // requests meanwhile keep the cores; each within the connection's statement_timeout
        // (DATABASE_STATEMENT_TIMEOUT_SECONDS): one cancelled keeps what it did, and the next round goes on.
        // The backend's pid (for `stop`) in the same statement: not a plain read, so it runs on this
        // connection, not a shared one.
        const pid = await sql<{ pid: number }>`select pg_backend_pid() as pid,
          set_config('vacuum_cost_delay', '2ms', false)`.execute(conn);
        this.vacuumPid = pid.rows[0]?.pid ?? null;
        const done: string[] = [];
        try {
          for (const name of names) {
            if (this.stopping) break;
            await sql`vacuum ${sql.id(name)}`.execute(conn);
            done.push(name);
          }
        } catch (err) {
          // cancelled by `stop`: the process is shutting down, nothing to report
          if (!this.stopping) throw err;
        } finally {
          this.vacuumPid = null;
          // `stop`'s cancel may land on this instead, once: then again
          await retriedOnce(() => sql`reset vacuum_cost_delay`.execute(conn));
        }
        return done;
      } finally {
        await retriedOnce(() => sql`select pg_advisory_unlock(${VACUUM_LOCK})`.execute(conn));
      }
    });
  }

  /** Analyzes this schema's tables that autovacuum would have (none when it is on); their names. */
  async runOnce(): Promise<string[]> {
    if (!(await this.ours())) return [];
    return transaction(this.kysely, async (trx) => {
      const lock = await sql<{
        ok: boolean;
      }>`select pg_try_advisory_xact_lock(${ANALYZE_LOCK}) as ok`.execute(trx);
      if (!lock.rows[0]?.ok) return [];
      const stale = await sql<{ relname: string }>`select relname from pg_stat_user_tables
        where schemaname = current_schema() and n_mod_since_analyze >= 50 + 0.1 * greatest(n_live_tup, 0)
        order by relname`.execute(trx);
      const names = stale.rows.map((r) => r.relname);
      if (names.length > 0 && !this.told) {
        this.told = true;
        this.warn(
          'PostgreSQL autovacuum is off: Rapport analyzes its own tables when they change (docs/operations.md)',
        );
      }
      for (const name of names) await sql`analyze ${sql.id(name)}`.execute(trx);
      return names;
    });
  }
}

/** Runs `statement`, and once more if it fails (a cancel meant for the statement before it). */
async function retriedOnce(statement: () => Promise<unknown>): Promise<void> {
  await statement().catch(statement);
}
