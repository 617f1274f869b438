import {
  type Compilable,
  CompiledQuery,
  isOperationNodeSource,
  type Kysely,
  PostgresAdapter,
  type QueryResult,
  type Transaction,
} from 'kysely';
import type { DialectName } from './database.js';
import { carrier, deferrable } from './deferred-inserts.js';
import type { Database } from './schema.js';

type Q = Kysely<Database> | Transaction<Database>;

/** Stands for the i-th argument while the query is built; compiled into a bound parameter. */
class Slot {
  constructor(readonly index: number) {}
}

interface Compiled {
  sql: string;
  /** per bound parameter: the argument index it takes, or a constant fixed when the query was built */
  params: Array<number | { value: unknown }>;
}

/**
 * Compiles `build`'s query once per dialect and argument count; each call then answers the compiled query
 * with that call's arguments bound. `build` is called with placeholders instead of the arguments, so it
 * must pass each argument into the query as a value, unchanged (no `?? null`, no branching on it, no
 * arrays: spread a list into separate arguments, as the count is part of the key). It may branch on the
 * dialect (`dialectOf`): the cache is per dialect.
 */
function compiler<A extends unknown[], R>(
  build: (db: Q, ...args: A) => Compilable<R>,
): (db: Q, args: A) => CompiledQuery<R> {
  const cache = new Map<string, Compiled>();
  return (db, args) => {
    // the dialect's adapter class decides the SQL (placeholders, quoting); a transaction shares its parent's
    const key = `${db.getExecutor().adapter.constructor.name}:${args.length}`;
    let c = cache.get(key);
    if (!c) {
      const slots = args.map((_, i) => new Slot(i)) as unknown as A;
      const compiled = build(db, ...slots).compile();
      const seen = new Set<number>();
      const params = compiled.parameters.map((p) => {
        if (!(p instanceof Slot)) return { value: p };
        seen.add(p.index);
        return p.index;
      });
      if (seen.size !== args.length) throw new Error('a prepared query lost one of its arguments');
      c = { sql: compiled.sql, params };
      cache.set(key, c);
    }
    const parameters = c.params.map((p) => (typeof p === 'number' ? (args[p] ?? null) : p.value));
    return CompiledQuery.raw(c.sql, parameters) as CompiledQuery<R>;
  };
}

/**
 * A query that Kysely builds and compiles once per dialect and argument count, then runs with new values.
 * Building and compiling costs Kysely 8–80 µs a query (more than SQLite takes to run a short one), and
 * a record write runs a dozen; the hot ones are prepared. See `compiler` for what `build` may do.
 */
export function prepared<A extends unknown[], R>(
  build: (db: Q, ...args: A) => Compilable<R>,
  /** marks each query before it runs (`deferrable`, `carrier`) */
  mark: (q: CompiledQuery) => CompiledQuery = (q) => q,
): (db: Q, ...args: A) => Promise<QueryResult<R>> {
  const compile = compiler(build);
  return async (db, ...args) => db.executeQuery(mark(compile(db, args))) as Promise<QueryResult<R>>;
}

/**
 * The same, not run: the statement for these arguments, for helpers that send several statements together
 * (`sendTogether`, `writesThenRead`, `writeStatements`).
 */
export function preparedStatement<A extends unknown[], R>(
  build: (db: Q, ...args: A) => Compilable<R>,
): (db: Q, ...args: A) => Compilable<R> {
  const compile = compiler(build);
  return (db, ...args) => {
    const query = compile(db, args);
    return { compile: () => query };
  };
}

/**
 * One prepared query per key, for values written into the SQL rather than bound (LIMITs and OFFSETs from
 * settings: see `LiteralLimits`), made on first use. Keys are meant to be few (one or two settings' values);
 * past `max` the memo starts over, so a caller passing many loses only the memo.
 */
export function perKey<K, F>(make: (key: K) => F, max = 8): (key: K) => F {
  const made = new Map<K, F>();
  return (key) => {
    let f = made.get(key);
    if (f === undefined) {
      if (made.size >= max) made.clear();
      f = make(key);
      made.set(key, f);
    }
    return f;
  };
}

/** Which database a Kysely instance (or transaction) speaks to, for builders of prepared queries. */
export function dialectOf(db: Q): DialectName {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

/** `insertRow`'s compiled texts, by dialect, table and column list */
const rowInserts = new Map<string, string>();
/** column lists kept at most: a module's rows carry the fields given, so a few lists per module */
const MAX_ROW_INSERTS = 1000;

/**
 * An INSERT of one row whose columns change from call to call (a module's row carries the fields given):
 * Kysely builds and compiles it once per dialect, table and column list (columns whose value is
 * `undefined` left out, as Kysely leaves them), and later calls bind the values to that text. A row with an
 * expression among its values (a `sql` template…) is compiled on its own, every time.
 */
export function insertRow(db: Q, table: string, row: Readonly<Record<string, unknown>>): CompiledQuery {
  const columns: string[] = [];
  const values: unknown[] = [];
  let plain = true;
  for (const [column, value] of Object.entries(row)) {
    if (value === undefined) continue;
    columns.push(column);
    values.push(value);
    // an expression (a `sql` template, a builder, a factory) goes into the text itself
    if (typeof value === 'function' || isOperationNodeSource(value)) plain = false;
  }
  const key = `${db.getExecutor().adapter.constructor.name}\0${table}\0${columns.join('\0')}`;
  const sql = plain ? rowInserts.get(key) : undefined;
  if (sql !== undefined) return CompiledQuery.raw(sql, values);
  const compiled = (db as unknown as Kysely<Record<string, Record<string, unknown>>>)
    .insertInto(table)
    .values(row)
    .compile();
  // kept only when Kysely bound every value, in the order of the columns
  if (
    plain &&
    compiled.parameters.length === values.length &&
    compiled.parameters.every((p, i) => p === values[i])
  ) {
    if (rowInserts.size >= MAX_ROW_INSERTS) rowInserts.clear();
    rowInserts.set(key, compiled.sql);
  }
  return compiled;
}

/** Rows per prepared INSERT: with a dozen columns this stays far below both databases' parameter limits. */
const ROWS_PER_INSERT = 500;

/**
 * A multi-row INSERT of the given columns, prepared per row count (see `prepared`), in batches of
 * ROWS_PER_INSERT. Answers the `id` of every row when `returningId` is set, in the order of `rows`:
 * ids are assigned in VALUES order, but RETURNING's own order is not promised, so they are sorted.
 * In a PostgreSQL transaction the INSERT goes to the server with the next statement (`deferInserts`).
 */
export function preparedInsert<T extends keyof Database & string, C extends string & keyof Database[T]>(
  table: T,
  columns: readonly C[],
  opts: { returningId?: boolean } = {},
): (db: Q, rows: ReadonlyArray<Record<C, unknown>>) => Promise<number[]> {
  const width = columns.length;
  const insert = prepared(
    (db: Q, ...flat: unknown[]) => {
      const values: Record<string, unknown>[] = [];
      for (let i = 0; i < flat.length; i += width) {
        const row: Record<string, unknown> = {};
        for (let j = 0; j < width; j++) row[columns[j]!] = flat[i + j];
        values.push(row);
      }
      const q = db.insertInto(table).values(values as never);
      return opts.returningId ? q.returning('id' as never) : q;
    },
    (q) => (opts.returningId ? carrier(q, table) : deferrable(q, table)),
  );
  return async (db, rows) => {
    const ids: number[] = [];
    for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
      const batch = rows.slice(i, i + ROWS_PER_INSERT);
      const flat: unknown[] = [];
      for (const r of batch) for (const c of columns) flat.push(r[c]);
      const res = await insert(db, ...flat);
      if (opts.returningId)
        ids.push(
          ...(res.rows as unknown as Array<{ id: number | string }>)
            .map((r) => Number(r.id))
            .sort((a, b) => a - b),
        );
    }
    return ids;
  };
}
