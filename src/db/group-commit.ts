import { type Compilable, CompiledQuery, type Kysely, type QueryResult, type Transaction } from 'kysely';
import { transaction } from './direct-transaction.js';
import { inOneWrite } from './pg-statements.js';
import type { Database } from './schema.js';

type Work<T> = (trx: Transaction<Database>) => Promise<T>;

interface Entry {
  work: Work<unknown>;
  /** asked with the work's result once it succeeded: true ends the batch there (its change must commit
   * before the next unit runs) */
  endsBatch: (value: unknown) => boolean;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

/**
 * SQLite group commit: units of work that queue while one runs share its transaction, each in a savepoint
 * of its own, and one COMMIT ends them all. SQLite has one writer, so they would have run one after the
 * other anyway; what they no longer repeat is the commit itself — writing every page they touched to the
 * log — and most of those pages are the same for all of them (the tables' and indexes' last leaves, the
 * search index's new segment). A unit that fails rolls back to its savepoint and fails alone; the others
 * in its batch still commit. Each caller's promise settles only after the commit (or its failure), so
 * nobody sees a change as done before it is durable. A batch stops taking work after `maxUnits` units or
 * `maxMs`, so the first unit's answer is not held for long. PostgreSQL does not need it: its transactions
 * run side by side on their own connections.
 */
export class GroupCommit {
  private readonly queue: Entry[] = [];
  private draining = false;
  /** transactions committed or rolled back, and the units they carried (their ratio is the batching) */
  readonly stats = { batches: 0, units: 0 };

  constructor(
    private readonly kysely: Kysely<Database>,
    /** whether the connection still has a transaction open (SQLite ends one by itself on some errors) */
    private readonly inTransaction: () => boolean,
    private readonly opts: { maxUnits?: number; maxMs?: number } = {},
  ) {}

  run<T>(work: Work<T>, endsBatch: (value: T) => boolean = () => false): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({
        work,
        endsBatch: endsBatch as (value: unknown) => boolean,
        resolve: resolve as (v: unknown) => void,
        reject,
      });
      if (!this.draining) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0) await this.batch();
    } finally {
      this.draining = false;
    }
  }

  private async batch(): Promise<void> {
    const maxUnits = this.opts.maxUnits ?? 32;
    const maxMs = this.opts.maxMs ?? 8;
    const done: Array<{ entry: Entry; value: unknown }> = [];
    const failed: Array<{ entry: Entry; err: unknown }> = [];
    const started = performance.now();
    let aborted: unknown;
    let lost: { err: unknown } | undefined;
    let waited = false;
    try {
      await transaction(this.kysely, async (trx) => {
        while (this.queue.length > 0 && done.length + failed.length < maxUnits) {
          if (done.length > 0 && performance.now() - started >= maxMs) break;
          const entry = this.queue.shift()!;
          if (done.length === 0) {
            // nothing to keep yet: the unit runs in the transaction itself and, if it fails, takes it down
            // alone (as without batching); the next unit starts a new one
            try {
              done.push({ entry, value: await entry.work(trx) });
            } catch (err) {
              failed.push({ entry, err });
              throw new FirstUnitFailed();
            }
          } else {
            await trx.executeQuery(SAVEPOINT);
            try {
              const value = await entry.work(trx);
              await trx.executeQuery(RELEASE);
              done.push({ entry, value });
            } catch (err) {
              failed.push({ entry, err });
              // SQLite ends the whole transaction by itself on some errors (disk full, I/O): then the
              // units before this one are lost too, and fail with its error (below)
              if (!this.inTransaction()) {
                aborted = err;
                throw err;
              }
              await trx.executeQuery(ROLLBACK_TO);
              await trx.executeQuery(RELEASE);
            }
          }
          const last = done.at(-1);
          if (last?.entry === entry && entry.endsBatch(last.value)) break;
          // requests that arrived meanwhile have not run yet (better-sqlite3 never yields): let this turn's
          // come in, once per batch, so their units join
          if (this.queue.length === 0 && !waited) {
            waited = true;
            await new Promise<void>((resolve) => setImmediate(resolve));
          }
        }
      });
    } catch (err) {
      // the units that had succeeded are lost with the transaction (none when the first unit failed)
      if (!(err instanceof FirstUnitFailed)) lost = { err: aborted ?? err };
    }
    this.stats.batches++;
    this.stats.units += done.length + failed.length;
    for (const f of failed) f.entry.reject(f.err);
    for (const d of done) lost ? d.entry.reject(lost.err) : d.entry.resolve(d.value);
  }
}

const SAVEPOINT = CompiledQuery.raw('savepoint rapport_unit');
const RELEASE = CompiledQuery.raw('release rapport_unit');
const ROLLBACK_TO = CompiledQuery.raw('rollback to rapport_unit');

/** The batch's first unit failed: its transaction rolls back with nothing else in it. */
class FirstUnitFailed extends Error {}

/** What the helpers below need of a database (`Db`): its connection and, on SQLite, its group commit. */
export interface Writable {
  kysely: Kysely<Database>;
  groupCommit?: GroupCommit;
}

/**
 * A write transaction: on SQLite in the group commit, elsewhere a transaction of its own. On SQLite's one
 * connection a transaction of its own would first wait for the batch in flight to commit, and the units
 * queued behind it would then start a new batch: every such write splits the batches.
 */
export function inWriteTransaction<T>(
  db: Writable,
  work: Work<T>,
  endsBatch?: (value: T) => boolean,
): Promise<T> {
  return db.groupCommit ? db.groupCommit.run(work, endsBatch) : transaction(db.kysely, work);
}

/**
 * Statements that need not commit together and are not a change anyone audits (counters, token trims, a
 * sign-in attempt's reservation, the webhook sender's claims): on SQLite in the group commit, as above; on
 * PostgreSQL each on its own, so no row lock (a per-address counter every request of that address updates)
 * is held past its statement. The caller sees them done only once they are durable.
 */
export function writeStatements<T>(db: Writable, fn: (db: Kysely<Database>) => Promise<T>): Promise<T> {
  return db.groupCommit ? db.groupCommit.run(fn) : fn(db.kysely);
}

/**
 * PostgreSQL: `steps` sent on one pooled connection in one write and answered in one round trip — each a
 * statement, or several in a transaction of their own (BEGIN … COMMIT around them). The pool's connections
 * pipeline, so every statement is its own pipeline step: a statement outside a transaction is its own
 * transaction and commits before the next runs, and each sees what those before it committed. Answers each
 * statement's outcome in order (BEGIN and COMMIT left out); one that fails does not stop the ones after it,
 * except that the rest of its transaction fails with it and the transaction rolls back.
 */
export async function sendTogether(
  kysely: Kysely<Database>,
  steps: ReadonlyArray<Compilable<unknown> | readonly Compilable<unknown>[]>,
): Promise<PromiseSettledResult<QueryResult<unknown>>[]> {
  const queries: Array<{ query: CompiledQuery; control: boolean }> = [];
  for (const step of steps) {
    if (!Array.isArray(step))
      queries.push({ query: (step as Compilable<unknown>).compile(), control: false });
    else
      queries.push(
        { query: CompiledQuery.raw('begin'), control: true },
        ...step.map((s) => ({ query: s.compile(), control: false })),
        { query: CompiledQuery.raw('commit'), control: true },
      );
  }
  const results = await kysely
    .getExecutor()
    .provideConnection((connection) =>
      Promise.allSettled(inOneWrite(() => queries.map(({ query }) => connection.executeQuery(query)))),
    );
  return results.filter((_, i) => !queries[i]!.control);
}

/** The results of `sendTogether`'s statements, or the first failure among them. */
export function allResults(settled: PromiseSettledResult<QueryResult<unknown>>[]): QueryResult<unknown>[] {
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<QueryResult<unknown>>).value);
}

/**
 * Writes as `writeStatements` gives them (each a statement of its own, none needing the others' result),
 * then a read that must see them committed, as a sign-in's reservation is counted: on SQLite the writes in
 * the group commit and the read once their batch has committed; on PostgreSQL all of them in one round trip
 * (`sendTogether`), each its own transaction, so the read sees them all. `wrote` hears what was written,
 * whatever the read does: each write's result, nothing for one that failed. The answer is the read's rows,
 * or the first failure. A write that fails undoes the writes before it on SQLite (they are one unit of the
 * group commit) but not on PostgreSQL, where they committed, and the statements after it still run: give
 * it writes that are each harmless alone.
 */
export async function writesThenRead<R>(
  db: Writable,
  writes: readonly Compilable<unknown>[],
  read: Compilable<R>,
  wrote: (results: Array<QueryResult<unknown> | undefined>) => void = () => {},
): Promise<R[]> {
  if (db.groupCommit) {
    wrote(
      await db.groupCommit.run(async (trx) => {
        const results: QueryResult<unknown>[] = [];
        for (const w of writes) results.push(await trx.executeQuery(w.compile()));
        return results;
      }),
    );
    return (await db.kysely.executeQuery(read.compile())).rows;
  }
  const settled = await sendTogether(db.kysely, [...writes, read]);
  wrote(settled.slice(0, -1).map((r) => (r.status === 'fulfilled' ? r.value : undefined)));
  return allResults(settled).at(-1)!.rows as R[];
}
