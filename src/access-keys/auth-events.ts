import { randomBytes } from 'node:crypto';
import { type Kysely, sql, type Transaction } from 'kysely';
import type pg from 'pg';
import type { Db } from '../db/database.js';
import type { Database } from '../db/schema.js';
import type { Clock } from '../platform/clock.js';
import type { Logger } from '../platform/logger.js';

export const AUTH_CHANNEL = 'rapport_auth';

/** What one process tells the others: drop cached auth (a key, user, role… changed), or refuse an address. */
export type AuthEvent = { kind: 'clear' } | { kind: 'key-block'; ip: string; until: number };

/** What goes on the wire: a `clear` carries the auth version its transaction bumped to. */
type WireEvent = AuthEvent | { kind: 'clear'; version: number };

interface Wire {
  /** the schema the sender works in (processes on other schemas of the database ignore it) */
  s: string;
  /** the sending process: it acted on the change itself already */
  o: string;
  e: WireEvent;
}

const PING_EVERY_MS = 15_000;
const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 5_000;

/** How a process learns of changes it did not make itself, without LISTEN: it reads the auth version. */
export interface VersionPoll {
  everyMs: number;
  clock: Clock;
  /** the version moved: drop what is cached (only that: a schema change shows as a stale plan, db/pg-statements) */
  changed(): void;
  /** the version was unchanged since the previous poll, which started at `at` (see AuthCache.confirm) */
  confirmed(at: number): void;
}

/**
 * PostgreSQL LISTEN/NOTIFY between replicas. A unit of work that changed who may do what publishes
 * `clear` inside its transaction — PostgreSQL delivers a notification only when (and if) that commits — and
 * every other process drops its auth cache when it arrives, within milliseconds. Each process holds one
 * connection outside the pool for LISTEN; when it drops, the process reconnects with backoff and clears its
 * cache (it may have missed notifications meanwhile); the version poll below bounds staleness while it is
 * away. SQLite (one process) has nothing to listen to.
 *
 * Besides, a `clear` bumps the `auth_version` row in the same transaction, on both databases, and every
 * process reads that row every `poll.everyMs`: when it moved, the process clears its cache (a change by
 * another process whose notification it missed, or by the command-line tool); when it did not, its cached
 * entries are confirmed current and stay (AuthCache.confirm) instead of all being read again every TTL.
 */
export class AuthEvents {
  readonly origin = randomBytes(8).toString('hex');
  /** times the LISTEN connection was (re)established */
  connections = 0;
  private client: pg.Client | null = null;
  private stopped = false;
  private retryMs = RETRY_FIRST_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private polling = false;
  /** the auth version the last poll read (none yet: the first poll clears) */
  private version: number | undefined;

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    private readonly onEvent: (event: AuthEvent) => void,
    private readonly listen: boolean,
    private readonly poll?: VersionPoll,
  ) {}

  /**
   * Sends `event` to the other processes; inside a transaction, only once it commits. A `clear` also bumps
   * the auth version: call it last in the transaction, as the row stays locked until the commit.
   */
  async publish(q: Kysely<Database> | Transaction<Database>, event: AuthEvent): Promise<number | undefined> {
    let e: WireEvent = event;
    let version: number | undefined;
    if (event.kind === 'clear') {
      const row = await q
        .updateTable('auth_version')
        .set((eb) => ({ version: eb('version', '+', 1) }))
        .where('id', '=', 1)
        .returning('version')
        .executeTakeFirst();
      if (row) {
        version = Number(row.version);
        e = { kind: 'clear', version };
      }
    }
    const target = this.db.listener;
    if (target) {
      const wire: Wire = { s: target.scope, o: this.origin, e };
      await sql`select pg_notify(${AUTH_CHANNEL}, ${JSON.stringify(wire)})`.execute(q);
    }
    return version;
  }

  /**
   * This process committed the auth version `version` (a `clear` it published) and cleared its own cache:
   * when nothing came in between, the poll need not clear for it again.
   */
  committedHere(version: number): void {
    if (this.version !== undefined && version === this.version + 1) this.version = version;
  }

  /** Starts polling the auth version and opens the LISTEN connection (one attempt; on failure it keeps retrying in the background). */
  async start(): Promise<void> {
    if (this.poll && this.poll.everyMs > 0) {
      await this.readVersion();
      this.pollTimer = setInterval(() => void this.readVersion(), this.poll.everyMs);
      this.pollTimer.unref();
    }
    if (!this.listen || !this.db.listener) return;
    await this.attempt();
    this.pingTimer = setInterval(() => void this.ping(), PING_EVERY_MS);
    this.pingTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.pollTimer);
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => {});
  }

  /** The server process of the LISTEN connection (operators find it as `rapport-listener`). */
  get backendPid(): number | null {
    return (this.client as unknown as { processID: number | null } | null)?.processID ?? null;
  }

  /** Whether a LISTEN connection is open right now. */
  get listening(): boolean {
    return this.client !== null;
  }

  private async attempt(): Promise<void> {
    const target = this.db.listener!;
    const client = target.create();
    let gone = false;
    const lost = (err?: Error) => {
      if (gone) return;
      gone = true;
      if (this.client === client) this.client = null;
      client.end().catch(() => {});
      if (this.stopped) return;
      this.logger.warn(
        `auth change listener: database connection lost${err ? ` (${err.message})` : ''}; reconnecting ` +
          `in ${this.retryMs} ms (meanwhile changes from other replicas arrive within AUTH_CACHE_TTL_MS)`,
      );
      this.retryTimer = setTimeout(() => void this.attempt(), this.retryMs);
      this.retryTimer.unref();
      this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
    };
    client.on('error', lost);
    client.on('end', () => lost());
    client.on('notification', (msg) => this.receive(target.scope, msg.payload));
    try {
      await client.connect();
      await client.query(`LISTEN ${AUTH_CHANNEL}`);
    } catch (err) {
      lost(err as Error);
      return;
    }
    if (gone) return;
    if (this.stopped) {
      await client.end().catch(() => {});
      return;
    }
    this.client = client;
    this.retryMs = RETRY_FIRST_MS;
    this.connections++;
    if (this.connections > 1) this.logger.info('auth change listener: listening again');
    // whatever changed while nobody listened here was missed: start from the database again
    this.onEvent({ kind: 'clear' });
  }

  /**
   * One poll of the auth version. Its start time is taken before the query is sent, so a version read as
   * unchanged covers every change committed before that time. A failed poll confirms nothing: cached
   * entries then end `AUTH_CACHE_TTL_MS` after they were read.
   */
  private async readVersion(): Promise<void> {
    const poll = this.poll!;
    if (this.polling || this.stopped) return;
    this.polling = true;
    const startedAt = poll.clock.now();
    const known = this.version;
    try {
      const row = await this.db.kysely
        .selectFrom('auth_version')
        .select('version')
        .where('id', '=', 1)
        .executeTakeFirst();
      const version = Number(row?.version ?? 0);
      // a notification or this process's own commit moved on while the poll ran: an older read is stale
      const stale = this.version !== known && this.version !== undefined && version < this.version;
      if (!stale && version !== this.version) {
        this.version = version;
        poll.changed();
      }
      poll.confirmed(startedAt);
    } catch (err) {
      this.logger.debug(
        { err },
        'auth version poll failed; cached permissions expire by their TTL meanwhile',
      );
    } finally {
      this.polling = false;
    }
  }

  /** A connection cut without a FIN (network loss) shows only when something is sent on it. */
  private async ping(): Promise<void> {
    const c = this.client;
    if (!c) return;
    try {
      await c.query('select 1');
    } catch (err) {
      c.emit('error', err);
    }
  }

  private receive(scope: string, payload: string | undefined): void {
    let wire: Wire;
    try {
      wire = JSON.parse(payload ?? '') as Wire;
    } catch {
      return;
    }
    if (wire.s !== scope || wire.o === this.origin || !wire.e) return;
    const e = wire.e;
    if (e.kind === 'clear' && 'version' in e && this.version !== undefined) {
      // a poll read this version (or a later one) already, and cleared then
      if (e.version <= this.version) return;
      // nothing in between was missed: the poll need not clear for it again
      if (e.version === this.version + 1) this.version = e.version;
    }
    this.onEvent(e.kind === 'clear' ? { kind: 'clear' } : e);
  }
}
