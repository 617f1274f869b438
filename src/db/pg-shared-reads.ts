import type { PostgresPool, PostgresPoolClient } from 'kysely';
import type pg from 'pg';
import { isLostConnection } from './db-errors.js';
import { inOneWrite, sendingTogether } from './pg-statements.js';

/**
 * A statement that only reads and leaves nothing behind on its connection: a SELECT that takes no row
 * locks, creates no table (`select … into`) and calls none of the functions that write, notify, lock,
 * change a setting or read the session's own state (`currval`, `lastval`: on a shared connection that is
 * another request's session). Anything else (and anything this cannot tell) is not one.
 */
const SELECT = /^\s*select\b/i;
const NOT_ONLY_A_READ =
  /\bfor\s+(update|share|no\s+key\s+update|key\s+share)\b|\binto\b|\b(set_config|pg_notify|nextval|setval|currval|lastval|pg_sleep)\s*\(|advisory/i;

export function isPlainRead(text: string): boolean {
  return SELECT.test(text) && !NOT_ONLY_A_READ.test(text);
}

/** a read is not queued behind one written this long ago (ms) and still unanswered: it takes the pool */
const STALL_MS = 5;
/** nor behind this many unanswered reads */
const MAX_IN_FLIGHT = 64;
/** a statement text whose read took this long (ms, from its write to its answer) stops sharing… */
const SLOW_MS = 50;
/** …until this many of its reads on the pool have been quick again */
const SLOW_PENALTY = 50;
/** after a failed connect, how long reads go to the pool before the next attempt (ms) */
const RETRY_MS = 1000;

/** statement texts whose speed is remembered; past this the record starts over */
const MAX_TEXTS = 2000;

/** One open connection and what is in flight on it. */
interface Line {
  client: pg.Client;
  stream: { cork(): void; uncork(): void };
  /**
   * when each unanswered statement was written, oldest first (a pipeline answers in order); Infinity
   * while it waits in the corked socket for the turn to end
   */
  sent: number[];
  /** how many statements at the end of `sent` wait in the corked socket */
  unsent: number;
}

/**
 * A few PostgreSQL connections, outside the pool, that single reads from every request share (see
 * `SharingPool`); each read goes to the one with the fewest unanswered. Reads given to a connection in the
 * same turn of the event loop leave in one write and come back in one answer; its backend wakes once for
 * all of them, where each would otherwise take a pooled connection, wait for it, write, and wake a backend
 * of its own.
 *
 * A slow read would hold up every read queued behind it. So only statement texts whose reads have been
 * answered within `SLOW_MS` share (a new text runs on the pool first; one that ran slow goes back to the
 * pool until `SLOW_PENALTY` of its reads there were quick), and a read goes to the pool while the oldest
 * unanswered read here was written `STALL_MS` ago, or `MAX_IN_FLIGHT` are unanswered, or no connection is
 * open (a failed connect is retried after `RETRY_MS`; meanwhile reads use the pool, which reports the outage
 * as before). A lost connection fails the reads in flight on it with the driver's connection error,
 * as a lost pooled connection fails its statement.
 */
export class SharedReads {
  /** each slot's connection: open, being opened, or neither */
  private readonly slots: (Line | 'opening' | null)[];
  private retryAt = 0;
  private closed = false;
  /**
   * single reads outside a transaction since start, by where they ran: a shared connection, or the pool
   * (a text not known quick, every shared connection busy or not open)
   */
  readonly stats = { shared: 0, pool: 0 };
  /** per statement text: > 0 once its reads are known quick; ≤ 0 while unknown or slow (see `learn`) */
  private readonly speed = new Map<string, number>();

  constructor(
    /** a new client, set up like a pooled one (named statements, type parsers), not connected yet */
    private readonly create: () => pg.Client,
    connections: number,
  ) {
    this.slots = new Array<Line | 'opening' | null>(connections).fill(null);
  }

  /** Sends the read here and answers its result; null when it should take a pooled connection instead. */
  query(text: string, values: unknown[] | undefined): Promise<pg.QueryResult> | null {
    const now = performance.now();
    // the open connection with the fewest reads in flight, unless the oldest of them waits too long
    let line: Line | null = null;
    for (let i = 0; i < this.slots.length; i++) {
      const l = this.slots[i];
      if (l === null) this.connect(i);
      if (!l || l === 'opening') continue;
      const waiting = l.sent.length;
      if (waiting >= MAX_IN_FLIGHT || (waiting > 0 && now - l.sent[0]! > STALL_MS)) continue;
      if (!line || waiting < line.sent.length) line = l;
      if (waiting === 0) break;
    }
    if (!line || !((this.speed.get(text) ?? 0) > 0)) {
      this.stats.pool++;
      return null;
    }
    const chosen = line;
    const { sent } = chosen;
    if (chosen.unsent === 0) {
      chosen.stream.cork();
      setImmediate(() => {
        const at = performance.now();
        for (let i = Math.max(0, sent.length - chosen.unsent); i < sent.length; i++) sent[i] = at;
        chosen.unsent = 0;
        chosen.stream.uncork();
      });
    }
    sent.push(Number.POSITIVE_INFINITY);
    chosen.unsent++;
    this.stats.shared++;
    const result = chosen.client.query(text, values) as Promise<pg.QueryResult>;
    result.then(
      () => this.learn(text, performance.now() - sent.shift()!),
      (err: unknown) => {
        sent.shift();
        // the server ended the connection: its 'end' may come after this answer, and a read sent on it
        // meanwhile would fail too
        if (isLostConnection(err)) this.drop(chosen.client);
      },
    );
    return result;
  }

  /** Notes how long a read of `text` took (ms, from its write to its answer), here or on the pool. */
  learn(text: string, ms: number): void {
    const known = this.speed.get(text);
    if (ms >= SLOW_MS) {
      this.speed.set(text, -SLOW_PENALTY);
    } else if (known === undefined) {
      if (this.speed.size >= MAX_TEXTS) this.speed.clear();
      this.speed.set(text, 1);
    } else if (known <= 0) {
      this.speed.set(text, known + 1);
    }
  }

  private drop(client: pg.Client): void {
    const slot = this.slots.findIndex((l) => typeof l === 'object' && l?.client === client);
    if (slot < 0) return;
    this.slots[slot] = null;
    void client.end().catch(() => {});
  }

  /** Opens the connection of an empty slot, unless a failed connect is too recent. */
  private connect(slot: number): void {
    if (this.closed || performance.now() < this.retryAt) return;
    this.slots[slot] = 'opening';
    const client = this.create();
    const drop = () => this.drop(client);
    // an error on an open connection (the server ended it) is heard here, or it would end the process;
    // the reads in flight are rejected by pg itself
    client.on('error', drop);
    client.on('end', drop);
    client.connect().then(
      () => {
        if (this.closed) {
          void client.end().catch(() => {});
          return;
        }
        const { stream } = (client as unknown as { connection: { stream: Line['stream'] } }).connection;
        this.slots[slot] = { client, stream, sent: [], unsent: 0 };
      },
      () => {
        this.slots[slot] = null;
        this.retryAt = performance.now() + RETRY_MS;
      },
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    const open = this.slots.filter((l): l is Line => typeof l === 'object' && l !== null);
    this.slots.fill(null);
    await Promise.all(open.map((l) => l.client.end().catch(() => {})));
  }
}

interface Waiting {
  text: string;
  values: unknown[] | undefined;
  /** a read that could have shared: how long it takes is noted */
  read: boolean;
  resolve(result: pg.QueryResult): void;
  reject(err: unknown): void;
}

/**
 * What Kysely takes for a pool: it hands out a `LazyClient` at once, which holds no connection until a
 * statement needs one. A single read outside a transaction goes to the shared connection; the first
 * statement that is anything else takes a pooled connection, and everything after it on the same client
 * uses that connection (a transaction, or statements that must follow each other on one session).
 */
export class SharingPool implements PostgresPool {
  private readonly idle: LazyClient[] = [];

  constructor(
    readonly pool: pg.Pool,
    readonly shared: SharedReads,
  ) {}

  async connect(): Promise<PostgresPoolClient> {
    return (this.idle.pop() ?? new LazyClient(this)) as unknown as PostgresPoolClient;
  }

  /** a released client, ready for the next caller (Kysely keeps its own wrapper per client object) */
  returned(client: LazyClient): void {
    if (this.idle.length < 256) this.idle.push(client);
  }

  async end(): Promise<void> {
    await this.shared.close();
    await this.pool.end();
  }
}

class LazyClient {
  private pooled: pg.PoolClient | null = null;
  private acquiring = false;
  private releaseWhenSent = false;
  /** statements given while the pooled connection is on its way, in order */
  private waiting: Waiting[] = [];
  /** the last read sent to the shared connection: a statement that needs the pool waits for it */
  private lastShared: Promise<unknown> | null = null;

  constructor(private readonly owner: SharingPool) {}

  /** Kysely's form: a text and its parameters (Rapport configures no cursor, whose form this refuses) */
  query(text: string, values: readonly unknown[]): Promise<pg.QueryResult> {
    if (typeof text !== 'string') throw new TypeError('a shared-read pool takes statements as text');
    if (this.pooled) return this.pooled.query(text, values as unknown[]);
    const read = !this.acquiring && !sendingTogether() && isPlainRead(text);
    if (read) {
      const shared = this.owner.shared.query(text, values as unknown[]);
      if (shared) {
        this.lastShared = shared;
        return shared;
      }
    }
    return new Promise((resolve, reject) => {
      this.waiting.push({ text, values: values as unknown[], read, resolve, reject });
      if (!this.acquiring) void this.acquire();
    });
  }

  /**
   * Takes a pooled connection (once the shared read sent before has been answered, so statements keep
   * their order), then sends what waits for it in one write, in the order given. A failure to connect fails
   * every waiting statement with the pool's error.
   */
  private async acquire(): Promise<void> {
    this.acquiring = true;
    const before = this.lastShared;
    this.lastShared = null;
    if (before) await before.catch(() => {});
    let client: pg.PoolClient;
    try {
      client = await this.owner.pool.connect();
    } catch (err) {
      this.acquiring = false;
      const failed = this.waiting;
      this.waiting = [];
      for (const w of failed) w.reject(err);
      if (this.releaseWhenSent) this.release();
      return;
    }
    this.pooled = client;
    this.acquiring = false;
    const waiting = this.waiting;
    this.waiting = [];
    const { shared } = this.owner;
    inOneWrite(() => {
      for (const w of waiting) {
        const sent = w.read ? performance.now() : 0;
        client.query(w.text, w.values).then((result) => {
          if (w.read) shared.learn(w.text, performance.now() - sent);
          w.resolve(result);
        }, w.reject);
      }
    });
    if (this.releaseWhenSent) this.release();
  }

  release(): void {
    if (this.acquiring) {
      // released before its statements were sent (a caller that did not wait): once they are
      this.releaseWhenSent = true;
      return;
    }
    this.releaseWhenSent = false;
    this.pooled?.release();
    this.pooled = null;
    this.lastShared = null;
    this.owner.returned(this);
  }
}
