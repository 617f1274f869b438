import { CompiledQuery, type DatabaseConnection, type QueryResult } from 'kysely';
import { describe, expect, it } from 'vitest';
import { describeEachDialect } from '../../test/harness.js';
import { classifyDatabaseError } from './db-errors.js';
import { carrier, deferInserts, deferrable, deferrableWrite } from './deferred-inserts.js';
import { preparedInsert } from './prepared.js';

/**
 * A connection that records what reaches the server, in trips: statements sent while others are still
 * unanswered travel with them (the pool pipelines them). Answers one row per statement, on a later turn.
 */
function recordingConnection() {
  const sent: Array<{ sql: string; parameters: readonly unknown[] }> = [];
  const trips: string[][] = [];
  let inFlight = 0;
  const send = (q: CompiledQuery) => {
    if (inFlight === 0) trips.push([]);
    trips.at(-1)!.push(q.sql + (q.parameters.length ? ` ${q.parameters.join()}` : ''));
    sent.push({ sql: q.sql, parameters: q.parameters });
    inFlight++;
  };
  const answered = async () => {
    await new Promise((r) => setImmediate(r));
    inFlight--;
  };
  const connection: DatabaseConnection = {
    async executeQuery<R>(q: CompiledQuery): Promise<QueryResult<R>> {
      send(q);
      const n = sent.length;
      await answered();
      return { rows: [{ id: n } as R] };
    },
    async *streamQuery<R>(q: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
      send(q);
      await answered();
      yield { rows: [] };
    },
  };
  deferInserts(connection);
  return { connection, sent, trips };
}

const insertA = (v: number) => deferrable(CompiledQuery.raw('insert into "a" ("v") values ($1)', [v]), 'a');
const insertB = (v: number, w: number) =>
  deferrable(CompiledQuery.raw('insert into "b" ("v", "w") values ($1, $2)', [v, w]), 'b');
const raw = (sql: string, parameters: unknown[] = []) => CompiledQuery.raw(sql, parameters);

describe('deferInserts (what reaches the server)', () => {
  it('sends the inserts of a transaction with its next statement, placeholders renumbered', async () => {
    const { connection: c, sent, trips } = recordingConnection();
    await c.executeQuery(raw('begin'));
    expect(await c.executeQuery(insertA(1))).toEqual({ rows: [] });
    await c.executeQuery(insertB(2, 3));
    expect(sent).toHaveLength(0);
    await c.executeQuery(carrier(raw('insert into "c" ("v") values ($1) returning "id"', [4]), 'c'));
    await c.executeQuery(insertA(5));
    await c.executeQuery(raw('commit'));
    expect(sent).toEqual([
      { sql: 'begin', parameters: [] },
      {
        sql: 'with "deferred_0" as (insert into "a" ("v") values ($1)), "deferred_1" as (insert into "b" ("v", "w") values ($2, $3)) insert into "c" ("v") values ($4) returning "id"',
        parameters: [1, 2, 3, 4],
      },
      // what waits at COMMIT goes with it
      { sql: 'insert into "a" ("v") values ($1)', parameters: [5] },
      { sql: 'commit', parameters: [] },
    ]);
    // BEGIN travels with the first statement, the last insert with COMMIT: two round trips
    expect(trips.map((t) => t.length)).toEqual([2, 2]);
  });

  it('combines the same statements into the same text every time, renumbered for their parameters', async () => {
    const { connection: c, sent } = recordingConnection();
    const write = async (a: number, b: number) => {
      await c.executeQuery(raw('begin'));
      await c.executeQuery(insertA(a));
      await c.executeQuery(insertB(b, b));
      await c.executeQuery(raw('commit'));
    };
    await write(1, 2);
    await write(3, 4);
    // the same texts in the other order
    await c.executeQuery(raw('begin'));
    await c.executeQuery(insertB(5, 5));
    await c.executeQuery(insertA(6));
    await c.executeQuery(raw('commit'));
    // the same texts, the first with a parameter more than before: the second's placeholders move
    await c.executeQuery(raw('begin'));
    await c.executeQuery(deferrable(raw('insert into "a" ("v") values ($1)', [7, 70]), 'a'));
    await c.executeQuery(insertB(8, 8));
    await c.executeQuery(raw('commit'));
    const combined = sent.filter((q) => q.sql.startsWith('with'));
    expect(combined).toEqual([
      {
        sql: 'with "deferred_0" as (insert into "a" ("v") values ($1)) insert into "b" ("v", "w") values ($2, $3)',
        parameters: [1, 2, 2],
      },
      {
        sql: 'with "deferred_0" as (insert into "a" ("v") values ($1)) insert into "b" ("v", "w") values ($2, $3)',
        parameters: [3, 4, 4],
      },
      {
        sql: 'with "deferred_0" as (insert into "b" ("v", "w") values ($1, $2)) insert into "a" ("v") values ($3)',
        parameters: [5, 5, 6],
      },
      {
        sql: 'with "deferred_0" as (insert into "a" ("v") values ($1)) insert into "b" ("v", "w") values ($3, $4)',
        parameters: [7, 70, 8, 8],
      },
    ]);
  });

  it('sends what waits before any statement that may read it, and before a stream', async () => {
    const { connection: c, trips } = recordingConnection();
    await c.executeQuery(raw('begin'));
    await c.executeQuery(insertA(1));
    await c.executeQuery(raw('select * from "a"'));
    await c.executeQuery(insertB(1, 2));
    for await (const _ of c.streamQuery(raw('select * from "b"'))) void _;
    await c.executeQuery(raw('commit'));
    expect(trips).toEqual([
      ['begin', 'insert into "a" ("v") values ($1) 1', 'select * from "a"'],
      ['insert into "b" ("v", "w") values ($1, $2) 1,2'],
      ['select * from "b"'],
      ['commit'],
    ]);
  });

  it('never puts two inserts into one table in one statement (their ids keep the order written)', async () => {
    const { connection: c, sent } = recordingConnection();
    await c.executeQuery(raw('begin'));
    await c.executeQuery(insertA(1));
    await c.executeQuery(insertA(2));
    await c.executeQuery(carrier(raw('insert into "a" ("v") values ($1) returning "id"', [3]), 'a'));
    await c.executeQuery(raw('commit'));
    expect(sent.map((s) => s.parameters)).toEqual([[], [1], [2], [3], []]);
  });

  it('drops what waits at ROLLBACK, not at ROLLBACK TO a savepoint', async () => {
    const { connection: c, trips } = recordingConnection();
    await c.executeQuery(raw('begin'));
    await c.executeQuery(raw('select 1'));
    await c.executeQuery(insertA(1));
    await c.executeQuery(raw('rollback'));
    await c.executeQuery(raw('begin'));
    await c.executeQuery(raw('savepoint "s"'));
    await c.executeQuery(insertA(2));
    await c.executeQuery(raw('rollback to savepoint "s"'));
    await c.executeQuery(raw('rollback'));
    expect(trips).toEqual([
      ['begin', 'select 1'],
      ['rollback'],
      ['begin', 'savepoint "s"'],
      ['insert into "a" ("v") values ($1) 2', 'rollback to savepoint "s"'],
      ['rollback'],
    ]);
  });

  it('sends nothing for a transaction that sent nothing, and inserts alone as one statement', async () => {
    const { connection: c, trips } = recordingConnection();
    await c.executeQuery(raw('begin'));
    await c.executeQuery(raw('commit'));
    await c.executeQuery(raw('begin'));
    await c.executeQuery(insertA(1));
    await c.executeQuery(raw('rollback'));
    expect(trips).toEqual([]);
    // one statement commits on its own: no BEGIN and COMMIT around it
    await c.executeQuery(raw('begin'));
    await c.executeQuery(insertA(2));
    await c.executeQuery(insertB(3, 4));
    await c.executeQuery(raw('commit'));
    expect(trips).toEqual([
      [
        'with "deferred_0" as (insert into "a" ("v") values ($1)) insert into "b" ("v", "w") values ($2, $3) 2,3,4',
      ],
    ]);
  });

  it('other writes nobody reads wait too, as statements of their own, in the order written', async () => {
    const { connection: c, trips } = recordingConnection();
    const del = (v: number) => deferrableWrite(raw('delete from "a" where "v" = $1', [v]));
    await c.executeQuery(raw('begin'));
    await c.executeQuery(insertA(1));
    await c.executeQuery(del(1));
    await c.executeQuery(insertA(2));
    await c.executeQuery(insertB(3, 4));
    await c.executeQuery(raw('commit'));
    // nothing was sent before COMMIT: BEGIN and COMMIT around them, all in one round trip
    expect(trips).toEqual([
      [
        'begin',
        'insert into "a" ("v") values ($1) 1',
        'delete from "a" where "v" = $1 1',
        'with "deferred_0" as (insert into "a" ("v") values ($1)) insert into "b" ("v", "w") values ($2, $3) 2,3,4',
        'commit',
      ],
    ]);
    // a carrier takes only the inserts written after the last other write along
    trips.length = 0;
    await c.executeQuery(raw('begin'));
    await c.executeQuery(insertB(1, 1));
    await c.executeQuery(del(2));
    await c.executeQuery(insertA(3));
    await c.executeQuery(carrier(raw('insert into "c" ("v") values ($1) returning "id"', [5]), 'c'));
    await c.executeQuery(raw('commit'));
    expect(trips).toEqual([
      [
        'begin',
        'insert into "b" ("v", "w") values ($1, $2) 1,1',
        'delete from "a" where "v" = $1 2',
        'with "deferred_0" as (insert into "a" ("v") values ($1)) insert into "c" ("v") values ($2) returning "id" 3,5',
      ],
      ['commit'],
    ]);
  });

  it('a long transaction sends what waits once 32 statements wait', async () => {
    const { connection: c, trips } = recordingConnection();
    await c.executeQuery(raw('begin'));
    for (let v = 0; v < 40; v++) await c.executeQuery(insertA(v));
    expect(trips.map((t) => t.length)).toEqual([33]);
    await c.executeQuery(raw('commit'));
    expect(trips.map((t) => t.length)).toEqual([33, 9]);
  });

  it('runs every statement at once outside a transaction', async () => {
    const { connection: c, trips } = recordingConnection();
    await c.executeQuery(insertA(1));
    await c.executeQuery(raw('select 1'));
    await c.executeQuery(insertA(2));
    expect(trips).toEqual([
      ['insert into "a" ("v") values ($1) 1'],
      ['select 1'],
      ['insert into "a" ("v") values ($1) 2'],
    ]);
  });

  it('answers with the first failure of statements sent together, having heard every answer', async () => {
    const answered: string[] = [];
    // what the server says: the carried insert fails, and the COMMIT behind it only ends the transaction
    const failing: DatabaseConnection = {
      executeQuery: async <R>(q: CompiledQuery): Promise<QueryResult<R>> => {
        await new Promise((r) => setImmediate(r));
        answered.push(q.sql);
        if (q.sql.startsWith('insert')) throw new Error('duplicate key');
        return { rows: [] };
      },
      streamQuery: () => {
        throw new Error('not used');
      },
    };
    deferInserts(failing);
    await failing.executeQuery(raw('begin'));
    await failing.executeQuery(raw('select 1'));
    await failing.executeQuery(insertA(1));
    await expect(failing.executeQuery(raw('commit'))).rejects.toThrow('duplicate key');
    expect(answered).toEqual(['begin', 'select 1', 'insert into "a" ("v") values ($1)', 'commit']);
  });
});

describeEachDialect('deferred inserts (the same behaviour on both databases)', (h) => {
  const insertSettings = preparedInsert('settings', ['key', 'value', 'updated_at']);
  const insertEvents = preparedInsert('domain_events', ['type', 'payload', 'created_at']);
  const insertEventsReturning = preparedInsert('domain_events', ['type', 'payload', 'created_at'], {
    returningId: true,
  });
  const setting = (key: string) =>
    h.ctx.db.kysely.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst();

  it('a transaction reads its own inserts, and they commit with it, ids in the order written', async () => {
    const [first, second, carried] = await h.ctx.db.kysely.transaction().execute(async (trx) => {
      await insertSettings(trx, [{ key: 'deferred.a', value: 'one', updated_at: 1 }]);
      await insertEvents(trx, [{ type: 'deferred.1', payload: '{}', created_at: 1 }]);
      const seen = await trx.selectFrom('settings').select('value').where('key', '=', 'deferred.a').execute();
      expect(seen).toEqual([{ value: 'one' }]);
      await insertEvents(trx, [{ type: 'deferred.2', payload: '{}', created_at: 2 }]);
      await insertSettings(trx, [{ key: 'deferred.b', value: 'two', updated_at: 1 }]);
      const ids = await insertEventsReturning(trx, [{ type: 'deferred.3', payload: '{}', created_at: 3 }]);
      const rows = await trx
        .selectFrom('domain_events')
        .select(['id', 'type'])
        .where('type', 'like', 'deferred.%')
        .orderBy('id')
        .execute();
      expect(rows.map((r) => r.type)).toEqual(['deferred.1', 'deferred.2', 'deferred.3']);
      expect(Number(rows[2]!.id)).toBe(ids[0]);
      return rows.map((r) => Number(r.id));
    });
    expect(first! < second! && second! < carried!).toBe(true);
    expect(await setting('deferred.b')).toEqual({ value: 'two' });
  });

  it('an insert that fails fails its transaction, and nothing of it commits', async () => {
    await insertSettings(h.ctx.db.kysely, [{ key: 'deferred.taken', value: 'first', updated_at: 1 }]);
    const err = await h.ctx.db.kysely
      .transaction()
      .execute(async (trx) => {
        await insertSettings(trx, [{ key: 'deferred.c', value: 'kept?', updated_at: 1 }]);
        // the key exists: a unique violation, whenever the server sees it
        await insertSettings(trx, [{ key: 'deferred.taken', value: 'second', updated_at: 1 }]);
        await insertEvents(trx, [{ type: 'deferred.after', payload: '{}', created_at: 1 }]);
      })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(classifyDatabaseError(err)?.kind).toBe('conflict');
    expect(await setting('deferred.c')).toBeUndefined();
    expect(await setting('deferred.taken')).toEqual({ value: 'first' });
    const after = await h.ctx.db.kysely
      .selectFrom('domain_events')
      .select('id')
      .where('type', '=', 'deferred.after')
      .execute();
    expect(after).toEqual([]);
  });

  it('a transaction that rolls back leaves none of its waiting inserts', async () => {
    await expect(
      h.ctx.db.kysely.transaction().execute(async (trx) => {
        await insertSettings(trx, [{ key: 'deferred.d', value: 'gone', updated_at: 1 }]);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(await setting('deferred.d')).toBeUndefined();
    // the connection carries nothing over into its next transaction
    await h.ctx.db.kysely.transaction().execute(async (trx) => {
      await insertSettings(trx, [{ key: 'deferred.e', value: 'next', updated_at: 1 }]);
    });
    expect(await setting('deferred.d')).toBeUndefined();
    expect(await setting('deferred.e')).toEqual({ value: 'next' });
  });

  it('a waiting update or delete is seen by the statements after it, commits with them, and fails them', async () => {
    const db = h.ctx.db.kysely;
    await insertSettings(db, [
      { key: 'waiting.u', value: 'before', updated_at: 1 },
      { key: 'waiting.x', value: 'x', updated_at: 1 },
    ]);
    const set = (trx: typeof db, key: string, value: string) =>
      trx.executeQuery(
        deferrableWrite(trx.updateTable('settings').set({ value }).where('key', '=', key).compile()),
      );
    await db.transaction().execute(async (trx) => {
      await set(trx, 'waiting.u', 'after');
      await trx.executeQuery(
        deferrableWrite(trx.deleteFrom('settings').where('key', '=', 'waiting.x').compile()),
      );
      const seen = await trx
        .selectFrom('settings')
        .select(['key', 'value'])
        .where('key', 'like', 'waiting.%')
        .execute();
      expect(seen).toEqual([{ key: 'waiting.u', value: 'after' }]);
      await set(trx, 'waiting.u', 'last');
    });
    expect(await setting('waiting.u')).toEqual({ value: 'last' });
    expect(await setting('waiting.x')).toBeUndefined();
    // a key taken: the unique violation fails the transaction, and the insert before it does not commit
    const err = await db
      .transaction()
      .execute(async (trx) => {
        await insertSettings(trx, [{ key: 'waiting.y', value: 'y', updated_at: 1 }]);
        await trx.executeQuery(
          deferrableWrite(
            trx.updateTable('settings').set({ key: 'waiting.u' }).where('key', '=', 'waiting.y').compile(),
          ),
        );
      })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(classifyDatabaseError(err)?.kind).toBe('conflict');
    expect(await setting('waiting.y')).toBeUndefined();
    expect(await setting('waiting.u')).toEqual({ value: 'last' });
  });
});
