import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { markConnectFailure } from './db-errors.js';

/**
 * Long reads off the event loop (SQLite). better-sqlite3 is synchronous and has neither a progress
 * handler nor `sqlite3_interrupt`, so a report statement run on the serving connection holds every other
 * request until it ends, and nothing can stop it. Here such statements run on a small pool of worker
 * threads, each with its own read-only connection to the same database file (WAL lets readers run beside
 * the writer), under a time limit: when it passes, the caller gets a `ReadTimeoutError` at once, the
 * worker is terminated and a new one takes its place.
 *
 * A terminated worker stops at its next return from SQLite to JavaScript — after the current row of a
 * stream, or when an aggregate's first row is ready — so it can keep one core busy a while longer; it
 * keeps its place in the pool until it has exited, so runaway statements never use more than `size`
 * threads. Workers start on first use. Only a database file can be shared: an in-memory database is
 * read on the serving connection (tests).
 */

export interface Statement {
  sql: string;
  parameters: readonly unknown[];
}

export interface ReadResult {
  columns: string[];
  /** rows as arrays, in `columns` order */
  rows: unknown[][];
}

export class ReadTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`the statement ran longer than ${timeoutMs} ms and was stopped`);
    this.name = 'ReadTimeoutError';
  }
}

/** The database closed (shutdown) or a worker stopped under a caller: "unavailable", a 503, never a 500. */
export class ReadPoolClosedError extends Error {
  constructor(message = 'the database is closing') {
    super(message);
    this.name = 'ReadPoolClosedError';
    markConnectFailure(this);
  }
}

/** The worker's code: a plain script (it runs as is under tsx, vitest and the built server). */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const SQLite = require(workerData.driver);
const db = new SQLite(workerData.file, { readonly: true, fileMustExist: true });
db.pragma('busy_timeout = ' + workerData.busyTimeoutMs);
const cache = new Map();
function prepare(text) {
  let s = cache.get(text);
  if (!s) {
    s = db.prepare(text);
    s.raw(true);
    if (cache.size >= 100) cache.delete(cache.keys().next().value);
    cache.set(text, s);
  }
  return s;
}
const columnsOf = (s) => s.columns().map((c) => c.name);
let stream = null;
function nextBatch() {
  const { id, iter, batch, columns } = stream;
  const rows = [];
  let done = false;
  for (;;) {
    if (rows.length >= batch) break;
    const r = iter.next();
    if (r.done) { done = true; break; }
    rows.push(r.value);
  }
  if (done) stream = null;
  parentPort.postMessage({ id, columns, rows, done });
}
parentPort.on('message', (m) => {
  try {
    if (m.kind === 'all') {
      // one snapshot for all the statements of a run
      db.exec('begin');
      try {
        const results = m.statements.map((st) => {
          const s = prepare(st.sql);
          return { columns: columnsOf(s), rows: s.all(st.parameters) };
        });
        parentPort.postMessage({ id: m.id, results });
      } finally {
        db.exec('commit');
      }
    } else if (m.kind === 'stream') {
      const s = prepare(m.sql);
      stream = { id: m.id, iter: s.iterate(m.parameters), batch: m.batch, columns: columnsOf(s) };
      nextBatch();
    } else if (m.kind === 'more') {
      if (stream && stream.id === m.id) nextBatch();
    } else if (m.kind === 'cancel') {
      if (stream && stream.id === m.id) { stream.iter.return(); stream = null; }
      parentPort.postMessage({ id: m.id, cancelled: true });
    } else if (m.kind === 'close') {
      if (stream) { stream.iter.return(); stream = null; }
      db.close();
      parentPort.close();
    }
  } catch (err) {
    if (stream && stream.id === m.id) { try { stream.iter.return(); } catch {} stream = null; }
    parentPort.postMessage({ id: m.id, error: { message: String(err && err.message || err), code: err && err.code } });
  }
});
`;

type Reply =
  | { id: number; results: ReadResult[] }
  | { id: number; columns: string[]; rows: unknown[][]; done: boolean }
  | { id: number; cancelled: true }
  | { id: number; error: { message: string; code?: string } };

interface Slot {
  worker: Worker;
  /** the job it runs (a stream holds it until done or cancelled) */
  busy: boolean;
  /** terminated (time limit) or failed: it leaves the pool when it has exited */
  dead: boolean;
  onReply: ((m: Reply) => void) | null;
  onFail: ((err: Error) => void) | null;
}

export interface ReadPoolOptions {
  /** worker threads at most (default 2) */
  size?: number;
  busyTimeoutMs?: number;
}

/** An error SQLite gave in the worker, with its code (SQLITE_…), so the usual driver-error mapping applies. */
function sqliteError(e: { message: string; code?: string }): Error {
  const err = new Error(e.message) as Error & { code?: string };
  if (e.code) err.code = e.code;
  return err;
}

export class SqliteReadPool {
  private readonly slots: Slot[] = [];
  private readonly waiting: Array<{ resolve: (s: Slot) => void; reject: (e: Error) => void }> = [];
  private nextId = 1;
  private closed = false;
  private readonly size: number;
  private readonly driver = createRequire(import.meta.url).resolve('better-sqlite3');

  constructor(
    readonly file: string,
    private readonly opts: ReadPoolOptions = {},
  ) {
    this.size = Math.max(1, opts.size ?? 2);
  }

  /** Workers running a job now (tests wait for this before checking the event loop is free). */
  get active(): number {
    return this.slots.filter((s) => s.busy && !s.dead).length;
  }

  /** Runs the statements in one read transaction on a worker; all of it within `timeoutMs`. */
  async all(statements: Statement[], timeoutMs: number): Promise<ReadResult[]> {
    const deadline = Date.now() + timeoutMs;
    const slot = await this.acquire(deadline, timeoutMs);
    const id = this.nextId++;
    try {
      const reply = await this.exchange(slot, deadline, timeoutMs, {
        id,
        kind: 'all',
        statements: statements.map((s) => ({ sql: s.sql, parameters: [...s.parameters] })),
      });
      if ('error' in reply) throw sqliteError(reply.error);
      if (!('results' in reply)) throw new Error('the report worker answered out of turn');
      return reply.results;
    } finally {
      this.release(slot);
    }
  }

  /**
   * Streams the rows of one statement in batches of `batch` rows. The worker reads the next batch only
   * when the caller asks for it (backpressure: memory stays flat); each batch must come within
   * `timeoutMs` (the first one counts the wait for a worker). Ending the loop early cancels the statement.
   */
  async *stream(statement: Statement, batch: number, timeoutMs: number): AsyncGenerator<ReadResult> {
    let deadline = Date.now() + timeoutMs;
    const slot = await this.acquire(deadline, timeoutMs);
    const id = this.nextId++;
    let finished = false;
    try {
      let reply = await this.exchange(slot, deadline, timeoutMs, {
        id,
        kind: 'stream',
        sql: statement.sql,
        parameters: [...statement.parameters],
        batch,
      });
      for (;;) {
        if ('error' in reply) {
          finished = true;
          throw sqliteError(reply.error);
        }
        if (!('rows' in reply)) throw new Error('the report worker answered out of turn');
        if (reply.done) finished = true;
        yield { columns: reply.columns, rows: reply.rows };
        if (finished) return;
        deadline = Date.now() + timeoutMs;
        reply = await this.exchange(slot, deadline, timeoutMs, { id, kind: 'more' });
      }
    } finally {
      if (!finished && !slot.dead) {
        // the consumer stopped early (or failed): end the statement before the worker takes other work
        try {
          await this.exchange(slot, Date.now() + 5000, 5000, { id, kind: 'cancel' });
        } catch {
          // the worker was terminated; it is being replaced
        }
      }
      this.release(slot);
    }
  }

  /**
   * Ends every worker. A worker inside a long SQLite step exits only when the step returns, so this waits
   * at most 2 s for them (a process that ends takes its threads with it).
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w.reject(new ReadPoolClosedError());
    const exits = Promise.all(
      this.slots.splice(0).map(async (s) => {
        s.dead = true;
        s.onFail?.(new ReadPoolClosedError());
        await s.worker.terminate();
      }),
    );
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exits, new Promise((r) => (timer = setTimeout(r, 2000)))]);
    clearTimeout(timer);
  }

  private start(): Slot {
    const worker = new Worker(WORKER, {
      eval: true,
      workerData: { driver: this.driver, file: this.file, busyTimeoutMs: this.opts.busyTimeoutMs ?? 5000 },
    });
    // an idle worker must not keep a short-lived process (CLI, test) alive
    worker.unref();
    const slot: Slot = { worker, busy: false, dead: false, onReply: null, onFail: null };
    worker.on('message', (m: Reply) => slot.onReply?.(m));
    worker.on('error', (err) => {
      slot.dead = true;
      slot.onFail?.(err);
    });
    worker.on('exit', () => {
      slot.dead = true;
      slot.onFail?.(new ReadPoolClosedError('the report worker stopped'));
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
      this.dispatch();
    });
    this.slots.push(slot);
    return slot;
  }

  private acquire(deadline: number, timeoutMs: number): Promise<Slot> {
    if (this.closed) return Promise.reject(new ReadPoolClosedError());
    return new Promise<Slot>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const entry = {
        resolve: (s: Slot) => {
          clearTimeout(timer);
          resolve(s);
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      timer = setTimeout(
        () => {
          const i = this.waiting.indexOf(entry);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(new ReadTimeoutError(timeoutMs));
        },
        Math.max(0, deadline - Date.now()),
      );
      this.waiting.push(entry);
      this.dispatch();
    });
  }

  /** Hands idle (or new) workers to waiting callers. */
  private dispatch(): void {
    while (this.waiting.length > 0 && !this.closed) {
      let slot = this.slots.find((s) => !s.busy && !s.dead);
      if (!slot) {
        if (this.slots.length >= this.size) return;
        slot = this.start();
      }
      slot.busy = true;
      this.waiting.shift()!.resolve(slot);
    }
  }

  private release(slot: Slot): void {
    slot.busy = false;
    slot.onReply = null;
    slot.onFail = null;
    this.dispatch();
  }

  /** Sends one message and waits for its reply; past the deadline the worker is terminated. */
  private exchange(slot: Slot, deadline: number, timeoutMs: number, message: object): Promise<Reply> {
    if (slot.dead) return Promise.reject(new ReadPoolClosedError('the report worker stopped'));
    return new Promise<Reply>((resolve, reject) => {
      // held while it works: the caller is waiting for it
      slot.worker.ref();
      const timer = setTimeout(
        () => {
          slot.onReply = null;
          slot.onFail = null;
          slot.dead = true;
          void slot.worker.terminate();
          reject(new ReadTimeoutError(timeoutMs));
        },
        Math.max(0, deadline - Date.now()),
      );
      slot.onReply = (m) => {
        clearTimeout(timer);
        slot.onReply = null;
        slot.onFail = null;
        slot.worker.unref();
        resolve(m);
      };
      slot.onFail = (err) => {
        clearTimeout(timer);
        slot.onReply = null;
        slot.onFail = null;
        reject(err);
      };
      slot.worker.postMessage(message);
    });
  }
}
