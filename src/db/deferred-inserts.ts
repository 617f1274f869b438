import { type Compilable, CompiledQuery, type DatabaseConnection, type QueryResult } from 'kysely';
import { inOneWrite, TRANSACTION_END, TRANSACTION_START } from './pg-statements.js';

/** INSERTs nobody reads a result of, by the table they write (`deferrable`). */
const deferrables = new WeakMap<CompiledQuery, string>();
/** Other writes nobody reads a result of (`deferrableWrite`). */
const deferrableWrites = new WeakSet<CompiledQuery>();
/** INSERTs whose result is read (RETURNING) but that read no table: deferred ones may ride along (`carrier`). */
const carriers = new WeakMap<CompiledQuery, string>();

/** PostgreSQL binds at most 65,535 parameters in one statement. */
const MAX_PARAMETERS = 65_535;
/** statements waiting on one connection at most: a longer transaction sends them and goes on */
const MAX_WAITING = 32;
const ROLLBACK = /^\s*rollback\b(?!\s+to\b)/i;

/**
 * Marks an INSERT into `table` whose result nobody reads (no RETURNING, no row count): inside a PostgreSQL
 * transaction it waits and goes to the server with the transaction's next statement (`deferInserts`).
 */
export function deferrable<Q extends CompiledQuery>(query: Q, table: string): Q {
  deferrables.set(query, table);
  return query;
}

/**
 * Marks an UPDATE or DELETE whose result nobody reads (no RETURNING; the caller gets no row count): inside a
 * PostgreSQL transaction it waits like a deferred INSERT and goes, as a statement of its own, with the
 * transaction's next statement.
 */
export function deferrableWrite<Q extends CompiledQuery>(query: Q): Q {
  deferrableWrites.add(query);
  return query;
}

/**
 * Runs an UPDATE or DELETE whose result nobody reads, marked `deferrableWrite`: in a PostgreSQL transaction
 * it waits and goes with the next statement; elsewhere it runs at once.
 */
export async function writeDeferred(
  db: { executeQuery(query: CompiledQuery): Promise<unknown> },
  query: Compilable,
): Promise<void> {
  await db.executeQuery(deferrableWrite(query.compile()));
}

/** Marks an INSERT into `table` that reads nothing but returns rows: the inserts waiting may go with it. */
export function carrier<Q extends CompiledQuery>(query: Q, table: string): Q {
  carriers.set(query, table);
  return query;
}

/** What waits on a connection, in the order written: INSERTs sent as one statement, or a write of its own. */
type Waiting =
  | { kind: 'inserts'; queries: CompiledQuery[]; tables: Set<string>; parameters: number }
  | { kind: 'write'; query: CompiledQuery };

/**
 * Lets a PostgreSQL connection send a transaction's statements in fewer round trips. A record write inserts
 * into half a dozen tables (the module's row, its history, the audit log, the search terms, the webhook
 * outbox) and reads none of them back: each was a round trip of its own, most of a write's time on
 * PostgreSQL. Now a write marked `deferrable` (an INSERT) or `deferrableWrite` (an UPDATE or DELETE) waits
 * on the connection, and goes with the transaction's next statement that is not one, so every statement
 * still sees every row written before it. Waiting INSERTs into different tables become one statement of
 * data-modifying CTEs (`WITH "deferred_0" AS (INSERT …) INSERT …`), carried by the next statement itself when
 * that is a `carrier`; other waiting writes go as statements of their own, in the order written. ROLLBACK
 * drops what waits.
 *
 * The pool's connections pipeline (see `openDatabase`): statements sent together leave in one write and are
 * answered in one round trip. BEGIN waits for the transaction's first statement and goes with it; what
 * waits at COMMIT goes with the COMMIT. A transaction that sent nothing sends nothing at COMMIT or ROLLBACK,
 * and one whose only write is one waiting statement sends that statement alone (it commits all or nothing
 * by itself). Each statement is its own pipeline step: one that fails leaves the transaction failed, so
 * the COMMIT behind it only ends it (the server answers ROLLBACK), and the first failure is what the
 * caller sees.
 *
 * A statement holds at most one INSERT per table: the CTEs of one statement run in no promised order,
 * and ids must ascend in the order the rows were written (an outbox is read in id order). An error in a
 * waiting write (a constraint, an invalid byte) surfaces at the statement it went with; the transaction
 * fails and rolls back as it would have. Outside a transaction every statement runs at once.
 */
export function deferInserts(connection: DatabaseConnection): void {
  const execute = connection.executeQuery.bind(connection) as (
    q: CompiledQuery,
  ) => Promise<QueryResult<unknown>>;
  const stream = connection.streamQuery.bind(connection);
  let inTransaction = false;
  /** the transaction's BEGIN, not sent yet: it goes with the transaction's first statement */
  let begin: CompiledQuery | null = null;
  let waiting: Waiting[] = [];

  /** the INSERTs waiting last, when `q` into `table` may join them */
  const joinable = (q: CompiledQuery, table: string) => {
    const last = waiting.at(-1);
    return last?.kind === 'inserts' &&
      !last.tables.has(table) &&
      last.parameters + q.parameters.length <= MAX_PARAMETERS
      ? last
      : undefined;
  };
  const statementOf = (w: Waiting) => (w.kind === 'inserts' ? combine(w.queries) : w.query);
  /**
   * Sends the BEGIN if it waits, then what waits, then `last`, without waiting for answers in between;
   * answers `last`'s result, or the first failure among them.
   */
  const send = async (last?: CompiledQuery): Promise<QueryResult<unknown>> => {
    const queries: CompiledQuery[] = [];
    if (begin) queries.push(begin);
    begin = null;
    for (const w of waiting) queries.push(statementOf(w));
    waiting = [];
    if (last) queries.push(last);
    if (queries.length === 0) return { rows: [] };
    // every answer is heard (none rejects unheard); the first failure is the cause of any after it
    const results = await Promise.allSettled(
      queries.length === 1 ? [execute(queries[0]!)] : inOneWrite(() => queries.map((q) => execute(q))),
    );
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    return (results.at(-1) as PromiseFulfilledResult<QueryResult<unknown>>).value;
  };
  const wait = async (w: Waiting): Promise<QueryResult<unknown>> => {
    if (waiting.length >= MAX_WAITING) await send();
    waiting.push(w);
    return { rows: [] };
  };

  connection.executeQuery = (async (q: CompiledQuery) => {
    if (inTransaction) {
      const table = deferrables.get(q);
      if (table !== undefined) {
        const group = joinable(q, table);
        if (!group)
          return wait({
            kind: 'inserts',
            queries: [q],
            tables: new Set([table]),
            parameters: q.parameters.length,
          });
        group.queries.push(q);
        group.tables.add(table);
        group.parameters += q.parameters.length;
        return { rows: [] };
      }
      if (deferrableWrites.has(q)) return wait({ kind: 'write', query: q });
      const carried = carriers.get(q);
      const group = carried === undefined ? undefined : joinable(q, carried);
      if (group) {
        waiting.pop();
        return send(combine([...group.queries, q]));
      }
    }
    if (TRANSACTION_START.test(q.sql)) {
      // a BEGIN inside a transaction would only warn: send it as it comes, like any other statement
      if (!inTransaction) {
        inTransaction = true;
        begin = q;
        return { rows: [] };
      }
    } else if (TRANSACTION_END.test(q.sql)) {
      inTransaction = false;
      if (ROLLBACK.test(q.sql)) waiting = [];
      if (begin && waiting.length <= 1) {
        // the server never saw this transaction: a COMMIT sends its one waiting statement alone, which
        // commits all of it or nothing, as the transaction would have; a ROLLBACK sends nothing
        begin = null;
        const only = waiting.pop();
        return only ? execute(statementOf(only)) : { rows: [] };
      }
    }
    return send(q);
  }) as DatabaseConnection['executeQuery'];

  connection.streamQuery = async function* (q: CompiledQuery, chunkSize?: number) {
    if (begin || waiting.length > 0) await send();
    yield* stream(q, chunkSize);
  } as DatabaseConnection['streamQuery'];
}

/** One statement of several INSERTs: all but the last as CTEs, their `$n` placeholders renumbered. */
function combine(queries: readonly CompiledQuery[]): CompiledQuery {
  if (queries.length === 1) return queries[0]!;
  const parameters: unknown[] = [];
  for (const q of queries) for (const p of q.parameters) parameters.push(p);
  return CompiledQuery.raw(combinedText(queries), parameters);
}

/** A level of the combined texts' cache: the next statement's text, and the combination ending here. */
interface TextNode {
  next: Map<string, TextNode>;
  /** the combined text, and the parameter counts it was made for */
  text?: { sql: string; counts: readonly number[] };
}
let combined: TextNode = { next: new Map() };
let combinedCount = 0;
/** combinations kept at most; past it the cache starts over (a write's statements come in a few shapes) */
const MAX_COMBINED = 256;

/**
 * The text of `combine`: the same statements (prepared ones are the same strings each time) make the same
 * text, which is kept rather than renumbered again at every write (~2 % of a PostgreSQL create's CPU). The
 * cache is a tree keyed by each statement's text in turn, so a lookup hashes no new string.
 */
function combinedText(queries: readonly CompiledQuery[]): string {
  let node = combined;
  for (const q of queries) {
    let child = node.next.get(q.sql);
    if (!child) {
      child = { next: new Map() };
      node.next.set(q.sql, child);
    }
    node = child;
  }
  const kept = node.text;
  if (kept && queries.every((q, i) => q.parameters.length === kept.counts[i])) return kept.sql;
  let offset = 0;
  const texts = queries.map((q) => {
    const at = offset;
    offset += q.parameters.length;
    // the marked INSERTs come from Kysely with every value bound: a `$n` is always a placeholder
    return at === 0 ? q.sql : q.sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + at}`);
  });
  const last = texts.pop()!;
  const sql = `with ${texts.map((t, i) => `"deferred_${i}" as (${t})`).join(', ')} ${last}`;
  if (++combinedCount > MAX_COMBINED) {
    combined = { next: new Map() };
    combinedCount = 1;
    return sql; // the node belonged to the tree just dropped
  }
  node.text = { sql, counts: queries.map((q) => q.parameters.length) };
  return sql;
}
