import type SQLite from 'better-sqlite3';
import { literalFunction } from '../platform/object-literal.js';

type Row = Record<string, unknown>;
type Build = (values: unknown[]) => Row;

/**
 * Builds a function that turns one raw row (an array) into an object with the given column names. A
 * generated object literal (`literalFunction`) gives every row the same shape at once, which better-sqlite3's
 * own property-by-property objects do not: on wide rows (a module table has 40+ columns) this halves the cost
 * of reading them.
 */
function rowBuilder(names: string[]): Build {
  return literalFunction<Build>(
    ['r'],
    names.map((n, i) => [n, () => `r[${i}]`]),
  );
}

/**
 * A prepared reader statement that returns objects, as kysely's SQLite driver expects, read in raw mode.
 * The column list is cached; `ALTER TABLE … ADD COLUMN` changes what `m.*` expands to, so a row of a
 * different width, or a schema change seen by `schemaChanged()`, rebuilds it.
 */
export class RawRowStatement {
  readonly reader = true;
  private build: Build | null = null;
  private width = -1;
  /** a SELECT that writes nothing: outside a transaction it joins the turn's read snapshot */
  private readonly plainRead: boolean;

  constructor(
    private readonly stmt: SQLite.Statement,
    private readonly snapshot?: TurnSnapshot,
  ) {
    stmt.raw(true);
    this.plainRead = stmt.readonly && /^\s*(select|with)\b/i.test(stmt.source);
  }

  schemaChanged(): void {
    this.build = null;
  }

  private builder(width: number): Build {
    if (!this.build || width !== this.width) {
      const names = this.stmt.columns().map((c) => c.name);
      this.build = rowBuilder(names);
      this.width = names.length;
    }
    return this.build;
  }

  all(params: readonly unknown[]): Row[] {
    if (this.plainRead) this.snapshot?.join();
    else this.snapshot?.end();
    const rows = this.stmt.all(params) as unknown[][];
    if (rows.length === 0) return [];
    const build = this.builder(rows[0]!.length);
    const out = new Array<Row>(rows.length);
    for (let i = 0; i < rows.length; i++) out[i] = build(rows[i]!);
    return out;
  }

  run(params: readonly unknown[]): SQLite.RunResult {
    return this.stmt.run(params);
  }

  *iterate(params: readonly unknown[]): IterableIterator<Row> {
    // a stream outlives the turn: it reads outside the snapshot
    this.snapshot?.end();
    for (const r of this.stmt.iterate(params) as IterableIterator<unknown[]>) yield this.builder(r.length)(r);
  }
}

/**
 * The read transaction that the plain reads of one turn of the event loop share (SQLite, the serving
 * connection). Outside a transaction every statement opens and ends a read transaction of its own, which in
 * WAL mode costs system calls (the read-mark lock on the `-shm` file, taken and dropped) and SQLite's check
 * of the log; under load many requests read in the same turn. The second plain read of a turn outside a
 * transaction opens one (`BEGIN`), the reads after it join it, and it ends (`COMMIT`) when the turn does
 * (`setImmediate`) or before any other statement runs on the connection (a write, `BEGIN`, DDL), so a write
 * and what follows it never read an older snapshot than their own connection's. Another connection's commit
 * shows from the next turn at the latest.
 */
export class TurnSnapshot {
  /** 'read': a plain read ran alone this turn; 'open': this turn's snapshot is open */
  private state: 'none' | 'read' | 'open' = 'none';
  private readonly begin: SQLite.Statement;
  private readonly commit: SQLite.Statement;
  /** reads that joined an open snapshot, and snapshots opened (for tests and measurements) */
  readonly stats = { joined: 0, opened: 0 };

  constructor(private readonly sqlite: SQLite.Database) {
    this.begin = sqlite.prepare('begin');
    this.commit = sqlite.prepare('commit');
  }

  /**
   * Before a plain read: joins this turn's snapshot. The first read of a turn runs alone (a lone read would
   * pay for BEGIN and COMMIT and save nothing); the second opens the snapshot, unless a transaction is open.
   */
  join(): void {
    if (this.state === 'open') {
      // SQLite may have ended it by itself (an I/O error): then the read runs alone
      if (this.sqlite.inTransaction) {
        this.stats.joined++;
        return;
      }
      this.state = 'read';
      return;
    }
    if (this.sqlite.inTransaction) return; // a caller's own transaction
    if (this.state === 'none') {
      this.state = 'read';
      setImmediate(this.turnEnded);
      return;
    }
    this.begin.run();
    this.state = 'open';
    this.stats.opened++;
  }

  /** Ends the snapshot, if one is open: before any statement that is not a plain read. */
  readonly end = (): void => {
    if (this.state !== 'open') return;
    this.state = 'read';
    if (this.sqlite.open && this.sqlite.inTransaction) this.commit.run();
  };

  private readonly turnEnded = (): void => {
    this.end();
    this.state = 'none';
  };
}
