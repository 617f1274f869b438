import { createRequire } from 'node:module';
import type pg from 'pg';
import { isStalePlan } from './db-errors.js';

/** Statements that only steer a transaction or change the schema: nothing to plan, or a plan to drop. */
export const TRANSACTION_START = /^\s*(begin|start\s+transaction)\b/i;
export const TRANSACTION_END = /^\s*(commit|end|rollback)\b(?!\s+to\b)/i;
const TRANSACTION_OTHER = /^\s*(savepoint|release|rollback\s+to|set|show|listen|unlisten|notify)\b/i;
const SCHEMA_CHANGE = /^\s*(alter|create|drop|truncate|comment|grant|revoke)\b/i;

/** What a RowDescription told pg about a statement's rows: its fields, their parsers, an empty row. */
interface RowShape {
  fields: unknown[];
  parsers: unknown[] | undefined;
  empty: Record<string, unknown> | null;
  /** builds one row from its raw values (see `rowBuilder`); null: pg's own `parseRow` */
  parseRow: ((raw: unknown[]) => Record<string, unknown>) | null;
}

type Parser = (raw: unknown) => unknown;

/**
 * A function that builds a row of this shape as one object literal, its values through the fields' type
 * parsers. pg's `parseRow` copies an empty row with every field (`{ ...empty }`) and then stores each value
 * by its name, a keyed store each: for a record's ~50 columns, 7 % of a PostgreSQL process's CPU under a
 * web-service query flood (10 rows a query). A literal with the names written in builds the row in one step.
 * Null for binary fields (pg copies their buffers; Rapport asks for none) and for rows
 * with no fields. The names are the server's column names, written as JSON string literals; a repeated name
 * keeps its last value, as with pg.
 */
export function rowBuilder(
  fields: ReadonlyArray<{ name: string; format?: string }>,
  parsers: readonly Parser[],
): ((raw: unknown[]) => Record<string, unknown>) | null {
  if (fields.length === 0 || fields.some((f) => f.format === 'binary')) return null;
  const props = fields.map((f, i) => {
    // a literal `"__proto__": v` would set the prototype; the computed form defines the property
    const key = f.name === '__proto__' ? '["__proto__"]' : JSON.stringify(f.name);
    return `${key}: r[${i}] === null ? null : p[${i}](r[${i}])`;
  });
  const build = new Function('p', `return (r) => ({ ${props.join(', ')} });`) as (
    p: readonly Parser[],
  ) => (raw: unknown[]) => Record<string, unknown>;
  return build(parsers);
}

/** The parts of pg's Query and Result (pg 8, pinned) that `DescribedOnce` uses. */
interface QueryInternals {
  name?: string;
  callback?: (err: Error | null, res: pg.QueryResult) => void;
  _accumulateRows: boolean;
  _result: {
    fields: unknown[];
    _parsers: unknown[] | undefined;
    _prebuiltEmptyResultObject: unknown;
    parseRow?: (raw: unknown[]) => Record<string, unknown>;
  };
  hasBeenParsed(connection: unknown): boolean;
}

/**
 * A named statement's query that asks the server to describe its rows only the first time. pg sends
 * Bind, Describe, Execute, Sync on every run, and parses the answer's RowDescription into fields and type
 * parsers each time: for a record read (~50 columns) that was ~9 % of the process's CPU (`addFields`
 * 5 %, the message itself 3 %) and ~1.5 KB on the wire. The shape of a statement's rows is kept per name
 * and reused on a connection that has the statement prepared: there the server refuses to run it if its
 * result type changed (`cached plan must not change result type`, handled below), so the shape holds. A
 * connection that prepares it afresh describes it again.
 */
function defineDescribedOnce(Query: typeof pg.Query) {
  return class DescribedOnce extends (Query as unknown as new (text: string, values: unknown[]) => object) {
    constructor(
      name: string,
      text: string,
      values: unknown[],
      private readonly shapes: Map<string, RowShape>,
    ) {
      // the text and values, not a config object: pg copies a config object property by property (with
      // their descriptors) before every query, ~2 % of a PostgreSQL process's CPU under load
      super(text, values);
      (this as unknown as { name: string }).name = name;
    }

    prepare(connection: { describe: unknown }): void {
      const self = this as unknown as QueryInternals;
      const shape = self.hasBeenParsed(connection) ? this.shapes.get(self.name!) : undefined;
      const prepare = (Query.prototype as unknown as { prepare(c: unknown): void }).prepare;
      if (!shape) {
        prepare.call(this, connection);
        return;
      }
      connection.describe = () => {};
      try {
        prepare.call(this, connection);
      } finally {
        delete (connection as { describe?: unknown }).describe;
      }
      const result = self._result;
      result.fields = shape.fields;
      result._parsers = shape.parsers;
      result._prebuiltEmptyResultObject = shape.empty;
      if (shape.parseRow) result.parseRow = shape.parseRow;
      self._accumulateRows = true;
    }

    handleRowDescription(msg: unknown): void {
      (Query.prototype as unknown as { handleRowDescription(m: unknown): void }).handleRowDescription.call(
        this,
        msg,
      );
      const self = this as unknown as QueryInternals;
      const r = self._result;
      const parseRow = rowBuilder(
        r.fields as Array<{ name: string; format?: string }>,
        (r._parsers ?? []) as Parser[],
      );
      if (parseRow) r.parseRow = parseRow;
      this.shapes.set(self.name!, {
        fields: r.fields,
        parsers: r._parsers,
        empty: r._prebuiltEmptyResultObject as Record<string, unknown> | null,
        parseRow,
      });
    }
  };
}

type DescribedOnceClass = ReturnType<typeof defineDescribedOnce>;
let describedOnce: DescribedOnceClass | undefined;

/**
 * The class, made on first use: pg is loaded only by a server on PostgreSQL (a server on SQLite never holds
 * the driver; loading it costs ~45 ms of start-up and ~2 MB of heap).
 */
function describedOnceQuery(): DescribedOnceClass {
  describedOnce ??= defineDescribedOnce((createRequire(import.meta.url)('pg') as typeof pg).Query);
  return describedOnce;
}

/**
 * Named prepared statements on PostgreSQL: the counterpart of SQLite's statement cache. An unnamed
 * statement is parsed and planned by the server on every execution; for Rapport's short queries planning
 * is most of the server's work (a record read under pgbench: 4,936/s unnamed, 17,622/s prepared). A text
 * seen a second time gets a name; each pooled connection prepares it on first use and then only binds and
 * runs it, and the server switches to a generic plan when that costs no more than the custom ones.
 *
 * Names carry a generation. A schema change (this process's DDL, or another replica's, announced through
 * `schemaChanged`) starts a new one: connections drop their statements (`DEALLOCATE ALL`) before their
 * next statement outside a transaction and prepare afresh. A statement that still meets a changed table
 * (`cached plan must not change result type`) starts a new generation too and, outside a transaction, is
 * run again once.
 */
export class PgStatementNames {
  private gen = 0;
  private readonly names = new Map<string, string>();
  private readonly seenOnce = new Set<string>();
  /** the rows' shape of each named statement, once described (see `DescribedOnce`) */
  private readonly shapes = new Map<string, RowShape>();

  /** when the current generation started (`now()`) */
  private genStartedAt: number;

  constructor(
    /** names per generation: each is held by every pooled connection that ran it */
    private readonly max = 200,
    /** texts remembered as seen once, so one-off statements never get a name */
    private readonly seenMax = 2000,
    /** a generation whose names are all taken gives way to a new one once it is this old */
    private readonly fullGenerationMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {
    this.genStartedAt = now();
  }

  get generation(): number {
    return this.gen;
  }

  /**
   * The name for this text, or undefined while it is new (or the generation's names are all taken). Names
   * are never taken back one by one (a connection would have to free each), so when they are all taken a
   * text seen again starts a new generation, at most once a `fullGenerationMs`: the texts in use get names
   * again within two runs each, where a full generation kept every text that came later unnamed (parsed and
   * planned at every run) for as long as the process ran. Statements with a LIMIT written in (one text per
   * limit a client asks for) and list filters' shapes fill a generation over days.
   */
  nameFor(text: string): string | undefined {
    const name = this.names.get(text);
    if (name !== undefined) return name;
    if (!this.seenOnce.has(text)) {
      if (this.seenOnce.size >= this.seenMax) this.seenOnce.clear();
      this.seenOnce.add(text);
      return undefined;
    }
    if (this.names.size >= this.max) {
      if (this.now() - this.genStartedAt >= this.fullGenerationMs) this.schemaChanged();
      // not named in this call even then: the asking connection still holds the old generation's statements
      // and frees them all before its next statement, which would free this one too
      return undefined;
    }
    this.seenOnce.delete(text);
    const named = `rapport_${this.gen}_${this.names.size}`;
    this.names.set(text, named);
    return named;
  }

  schemaChanged(): void {
    this.gen++;
    this.genStartedAt = this.now();
    this.names.clear();
    this.shapes.clear();
  }

  /** Makes `client.query(text, values)` (the form Kysely uses) run named statements; other forms pass. */
  attach(client: pg.Client): void {
    const query = client.query.bind(client) as (...args: unknown[]) => Promise<pg.QueryResult>;
    let generation = this.gen;
    let inTransaction = false;
    const run = async (
      text: string,
      values: unknown[] | undefined,
      retry: boolean,
    ): Promise<pg.QueryResult> => {
      if (generation !== this.gen && !inTransaction) {
        // statements named in earlier generations are never used again: free them on the server
        await query('deallocate all');
        generation = this.gen;
      }
      // without parameters pg sends the simple protocol, which also takes several statements in one text;
      // and a connection still in an older generation (inside a transaction) prepares nothing: names it
      // prepared now would be freed by its `deallocate all` after the commit, while pg still believes
      // them prepared on this connection ("prepared statement … does not exist")
      const name = values?.length && generation === this.gen ? this.nameFor(text) : undefined;
      if (name === undefined) return query(text, values);
      try {
        const q = new (describedOnceQuery())(name, text, values ?? [], this.shapes);
        return await new Promise<pg.QueryResult>((resolve, reject) => {
          (q as unknown as QueryInternals).callback = (err, res) => (err ? reject(err) : resolve(res));
          query(q);
        });
      } catch (err) {
        if (!isStalePlan(err)) throw err;
        if (generation === this.gen) this.schemaChanged();
        if (inTransaction || !retry) throw err;
        return run(text, values, false);
      }
    };
    (client as unknown as { query: unknown }).query = (...args: unknown[]) => {
      const [text, values, callback] = args;
      if (typeof text !== 'string' || typeof values === 'function' || callback !== undefined)
        return query(...args);
      if (TRANSACTION_START.test(text)) {
        inTransaction = true;
        return query(text, values);
      }
      if (TRANSACTION_END.test(text)) {
        inTransaction = false;
        return query(text, values);
      }
      if (TRANSACTION_OTHER.test(text)) return query(text, values);
      if (SCHEMA_CHANGE.test(text)) {
        this.schemaChanged();
        return query(text, values);
      }
      return run(text, values as unknown[] | undefined, true);
    };
  }
}

/** the sockets corked by the `inOneWrite` running now, or null outside one */
let oneWrite: Set<Corkable> | null = null;

/**
 * Runs `send`, which hands several statements to pooled connections without waiting (a transaction's BEGIN
 * with its first statement, its waiting writes with the COMMIT: see `deferInserts`), so that what each
 * connection is given leaves in one write. With the pool's pipelining pg writes every statement as it is
 * given, each on its own; on loopback every write costs this process the kernel's whole trip to the server
 * (`writev` was ~30 % of a PostgreSQL login's CPU profile). pg writes synchronously, so the sockets are
 * corked while `send` runs and uncorked when it returns. A statement sent alone is written at once, with
 * no cork at all.
 */
export function inOneWrite<T>(send: () => T): T {
  if (oneWrite) return send();
  const corked = new Set<Corkable>();
  oneWrite = corked;
  try {
    return send();
  } finally {
    oneWrite = null;
    for (const stream of corked) stream.uncork();
  }
}

/** whether an `inOneWrite` is running now: its statements must go to the connections they were given */
export function sendingTogether(): boolean {
  return oneWrite !== null;
}

/** Lets `inOneWrite` cork this client's socket. */
export function coalesceWrites(client: pg.Client): void {
  const { stream } = (client as unknown as { connection: { stream: Partial<Corkable> } }).connection;
  if (typeof stream.cork !== 'function' || typeof stream.uncork !== 'function') return;
  const corkable = stream as Corkable;
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as unknown as { query: unknown }).query = (...args: unknown[]) => {
    if (oneWrite && !oneWrite.has(corkable)) {
      corkable.cork();
      oneWrite.add(corkable);
    }
    return query(...args);
  };
}

interface Corkable {
  cork(): void;
  uncork(): void;
}
