import {
  CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type KyselyPlugin,
  type QueryExecutor,
  type QueryId,
  type QueryResult,
  type RootOperationNode,
  Transaction,
} from 'kysely';

/**
 * Plugins whose `transformResult` answers the result it is given: a direct transaction skips them there.
 * (Kysely awaits every plugin's `transformResult` for every statement, whatever it does.)
 */
const passThrough = new WeakSet<KyselyPlugin>();

/** Marks a plugin whose `transformResult` answers its argument unchanged. */
export function resultsPassThrough<P extends KyselyPlugin>(plugin: P): P {
  passThrough.add(plugin);
  return plugin;
}

interface State {
  ended: boolean;
}

/**
 * A transaction's executor that runs each statement on the transaction's connection as it comes.
 * Kysely's own (0.28) builds a new executor for every statement, and hands the statement through five async
 * steps (the executor, the provider that asserts the transaction is open, the single-connection provider
 * that queues statements behind each other, the consumer, one per plugin's result) before the connection
 * sees it: a record create runs ~10 statements, and that machinery was ~25–30 KB of the ~140 KB a create
 * allocates (docs/performance.md, "What webhooks add to a create", stop 54). Building and compiling queries
 * is still Kysely's (the base executor's compiler and plugins).
 *
 * Statements are not queued behind each other here. Most callers await each before the next; those given at
 * once (a `Promise.all` over the transaction) still run in the order given: better-sqlite3 runs each
 * synchronously when it is given, and pg's client sends what it is given in order, as one pipeline.
 */
class ConnectionExecutor implements QueryExecutor {
  private readonly transformsResults: boolean;
  constructor(
    private readonly base: QueryExecutor,
    private readonly connection: DatabaseConnection,
    private readonly state: State,
  ) {
    this.transformsResults = base.plugins.some((p) => !passThrough.has(p));
  }

  get adapter() {
    return this.base.adapter;
  }
  get plugins() {
    return this.base.plugins;
  }
  transformQuery<T extends RootOperationNode>(node: T, queryId: QueryId): T {
    return this.base.transformQuery(node, queryId);
  }
  compileQuery<R = unknown>(node: RootOperationNode, queryId: QueryId): CompiledQuery<R> {
    return this.base.compileQuery(node, queryId);
  }

  private open(): void {
    if (this.state.ended) throw new Error('transaction is already committed or rolled back');
  }

  provideConnection<T>(consumer: (connection: DatabaseConnection) => Promise<T>): Promise<T> {
    this.open();
    return consumer(this.connection);
  }

  executeQuery<R>(compiledQuery: CompiledQuery<R>): Promise<QueryResult<R>> {
    this.open();
    const result = this.connection.executeQuery<R>(compiledQuery);
    return this.transformsResults
      ? result.then((r) => this.transformResult(r, compiledQuery.queryId))
      : result;
  }

  async *stream<R>(
    compiledQuery: CompiledQuery<R>,
    chunkSize: number,
  ): AsyncIterableIterator<QueryResult<R>> {
    this.open();
    for await (const result of this.connection.streamQuery<R>(compiledQuery, chunkSize))
      yield this.transformsResults ? await this.transformResult(result, compiledQuery.queryId) : result;
  }

  private async transformResult<R>(result: QueryResult<R>, queryId: QueryId): Promise<QueryResult<R>> {
    let out = result as QueryResult<never>;
    for (const plugin of this.base.plugins)
      if (!passThrough.has(plugin)) out = (await plugin.transformResult({ result: out, queryId })) as never;
    return out as QueryResult<R>;
  }

  withConnectionProvider(...args: Parameters<QueryExecutor['withConnectionProvider']>): QueryExecutor {
    return this.base.withConnectionProvider(...args);
  }
  withPlugin(plugin: KyselyPlugin): QueryExecutor {
    return new ConnectionExecutor(this.base.withPlugin(plugin), this.connection, this.state);
  }
  withPlugins(plugins: ReadonlyArray<KyselyPlugin>): QueryExecutor {
    return new ConnectionExecutor(this.base.withPlugins(plugins), this.connection, this.state);
  }
  withPluginAtFront(plugin: KyselyPlugin): QueryExecutor {
    return new ConnectionExecutor(this.base.withPluginAtFront(plugin), this.connection, this.state);
  }
  withoutPlugins(): QueryExecutor {
    return new ConnectionExecutor(this.base.withoutPlugins(), this.connection, this.state);
  }
}

const BEGIN = CompiledQuery.raw('begin');
const COMMIT = CompiledQuery.raw('commit');
const ROLLBACK = CompiledQuery.raw('rollback');

/** A direct transaction has no driver of its own: it runs on a connection the Kysely instance lent it. */
const notInTransaction = () => Promise.reject(new Error('not supported in a transaction'));
const noDriver: Driver = {
  init: notInTransaction,
  acquireConnection: notInTransaction,
  beginTransaction: notInTransaction,
  commitTransaction: notInTransaction,
  rollbackTransaction: notInTransaction,
  releaseConnection: notInTransaction,
  destroy: notInTransaction,
};

/** The dialect each Kysely instance was opened with, for the transactions `transaction` builds. */
const dialects = new WeakMap<object, Dialect>();

/** Lets `transaction` run `kysely`'s transactions directly on their connection (see ConnectionExecutor). */
export function enableDirectTransactions<DB>(kysely: Kysely<DB>, dialect: Dialect): void {
  dialects.set(kysely, dialect);
}

/**
 * Runs `work` in a transaction on one of `kysely`'s connections: BEGIN, then COMMIT once it succeeds or
 * ROLLBACK if it throws (and the transaction had begun), as `kysely.transaction().execute(work)` does —
 * which it falls back to for an instance not enabled above — with each statement going straight to the
 * connection. The transaction is Kysely's own class: builders, `sql` templates and `executeQuery` on it work
 * as on any other, and it refuses statements once it has ended.
 */
export async function transaction<DB, T>(
  kysely: Kysely<DB>,
  work: (trx: Transaction<DB>) => Promise<T>,
): Promise<T> {
  const dialect = dialects.get(kysely);
  if (!dialect) return kysely.transaction().execute(work);
  const base = kysely.getExecutor();
  return base.provideConnection(async (connection) => {
    const state: State = { ended: false };
    const trx = new Transaction<DB>({
      config: { dialect },
      dialect,
      driver: noDriver,
      executor: new ConnectionExecutor(base, connection, state),
    });
    let begun = false;
    try {
      await connection.executeQuery(BEGIN);
      begun = true;
      const result = await work(trx);
      await connection.executeQuery(COMMIT);
      state.ended = true;
      return result;
    } catch (err) {
      if (begun) {
        state.ended = true;
        await connection.executeQuery(ROLLBACK);
      }
      throw err;
    }
  });
}
