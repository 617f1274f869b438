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

  constructor(private readonly stmt: SQLite.Statement) {
    stmt.raw(true);
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
    for (const r of this.stmt.iterate(params) as IterableIterator<unknown[]>) yield this.builder(r.length)(r);
  }
}
