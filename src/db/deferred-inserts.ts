import { CompiledQuery, type DatabaseConnection, type QueryResult } from 'kysely';
import { TRANSACTION_END, TRANSACTION_START } from './pg-statements.js';

/** INSERTs nobody reads a result of, by the table they write (`deferrable`). */
const deferrables = new WeakMap<CompiledQuery, string>();
/** INSERTs whose result is read (RETURNING) but that read no table: deferred ones may ride along (`carrier`). */
const carriers = new WeakMap<CompiledQuery, string>();

/** PostgreSQL binds at most 65,535 parameters in one statement. */
const MAX_PARAMETERS = 65_535;
const ROLLBACK = /^\s*rollback\b(?!\s+to\b)/i;

/**
 * Marks an INSERT into `table` whose result nobody reads (no RETURNING, no row count): inside a PostgreSQL
 * transaction it waits and goes to the server with the transaction's next statement (`deferInserts`).
 */
export function deferrable<Q extends CompiledQuery>(query: Q, table: string): Q {
  deferrables.set(query, table);
  return query;
}

/** Marks an INSERT into `table` that reads nothing but returns rows: the inserts waiting may go with it. */
export function carrier<Q extends CompiledQuery>(query: Q, table: string): Q {
  carriers.set(query, table);
  return query;
}

/**
 * Lets a PostgreSQL connection send a transaction's statements in fewer round trips. A record write inserts
 * into half a dozen tables (the module's row, its history, the audit log, the search terms, the webhook
 * outbox) and reads none of them back: each was a round trip of its own, most of a write's time on
 * PostgreSQL. Now an INSERT marked `deferrable` waits on the connection; the transaction's next statement
 * takes everything waiting along as data-modifying CTEs (`WITH "deferred_0" AS (INSERT …) INSERT …` when that
 * statement is a `carrier`), or sends it first as one such statement (any other statement), so every
 * statement still sees every row written before it. ROLLBACK drops what waits.
 *
 * BEGIN and COMMIT ride along too (the pool's connections pipeline: statements sent together go in one
 * write and come back in one round trip, see `openDatabase`). BEGIN waits for the transaction's first
 * statement and goes with it; what waits at COMMIT goes with the COMMIT. A transaction that sent nothing
 * sends nothing at COMMIT or ROLLBACK. Each statement is its own pipeline step: one that fails leaves the
 * transaction failed, so the COMMIT behind it only ends it (the server answers ROLLBACK), and the failure
 * is what the caller sees.
 *
 * A statement holds at most one INSERT per table: the CTEs of one statement run in no promised order,
 * and ids must ascend in the order the rows were written (an outbox is read in id order). An error in a
 * deferred INSERT (a constraint, an invalid byte) surfaces at the statement that carried it; the
 * transaction fails and rolls back as it would have. Outside a transaction every statement runs at once.
 */
export function deferInserts(connection: DatabaseConnection): void {
  const execute = connection.executeQuery.bind(connection) as (
    q: CompiledQuery,
  ) => Promise<QueryResult<unknown>>;
  const stream = connection.streamQuery.bind(connection);
  let inTransaction = false;
  /** the transaction's BEGIN, not sent yet: it goes with the transaction's first statement */
  let begin: CompiledQuery | null = null;
  let waiting: CompiledQuery[] = [];
  const tables = new Set<string>();
  let parameters = 0;

  const take = (): CompiledQuery[] => {
    const out = waiting;
    waiting = [];
    tables.clear();
    parameters = 0;
    return out;
  };
  /**
   * Sends the BEGIN if it waits, then what waits combined, then `last`, without waiting in between; answers
   * `last`'s result, or the first failure among them.
   */
  const send = async (last?: CompiledQuery): Promise<QueryResult<unknown>> => {
    const queries: CompiledQuery[] = [];
    if (begin) queries.push(begin);
    begin = null;
    if (waiting.length > 0) queries.push(combine(take()));
    if (last) queries.push(last);
    if (queries.length === 0) return { rows: [] };
    // every answer is heard (none rejects unheard); the first failure is the cause of any after it
    const results = await Promise.allSettled(queries.map((q) => execute(q)));
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    return (results.at(-1) as PromiseFulfilledResult<QueryResult<unknown>>).value;
  };
  const fits = (q: CompiledQuery, table: string) =>
    !tables.has(table) && parameters + q.parameters.length <= MAX_PARAMETERS;

  connection.executeQuery = (async (q: CompiledQuery) => {
    if (inTransaction) {
      const table = deferrables.get(q);
      if (table !== undefined) {
        if (!fits(q, table)) await send();
        waiting.push(q);
        tables.add(table);
        parameters += q.parameters.length;
        return { rows: [] };
      }
      const carried = carriers.get(q);
      if (carried !== undefined && waiting.length > 0 && fits(q, carried)) {
        const together = combine([...take(), q]);
        return send(together);
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
      const rollback = ROLLBACK.test(q.sql);
      if (rollback) take();
      inTransaction = false;
      if (begin) {
        // the server never saw this transaction: a COMMIT sends what waits as one statement, which commits
        // all of it or nothing, as the transaction would have; a ROLLBACK sends nothing
        begin = null;
        if (rollback || waiting.length === 0) return { rows: [] };
        return send(combine(take()));
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
  const texts = queries.map((q) => {
    const offset = parameters.length;
    parameters.push(...q.parameters);
    // the marked INSERTs come from Kysely with every value bound: a `$n` is always a placeholder
    return offset === 0 ? q.sql : q.sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`);
  });
  const last = texts.pop()!;
  return CompiledQuery.raw(
    `with ${texts.map((t, i) => `"deferred_${i}" as (${t})`).join(', ')} ${last}`,
    parameters,
  );
}
