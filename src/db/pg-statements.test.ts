import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { type Kysely, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DIALECTS, PG_URL, pgWritesDuring } from '../../test/harness.js';
import { type Db, openDatabase } from './database.js';
import { classifyDatabaseError } from './db-errors.js';
import { deferrable } from './deferred-inserts.js';
import { allResults, sendTogether, writesThenRead } from './group-commit.js';
import { PgStatementNames, rowBuilder } from './pg-statements.js';

describe('PgStatementNames', () => {
  it('names a text the second time it is seen, within a bound, and afresh after a schema change', () => {
    const names = new PgStatementNames(2, 10);
    expect(names.nameFor('select $1')).toBeUndefined();
    const first = names.nameFor('select $1');
    expect(first).toBe('rapport_0_0');
    expect(names.nameFor('select $1')).toBe(first);
    names.nameFor('select $2');
    expect(names.nameFor('select $2')).toBe('rapport_0_1');
    names.nameFor('select $3');
    expect(names.nameFor('select $3')).toBeUndefined(); // the generation's names are all taken
    names.schemaChanged();
    expect(names.generation).toBe(1);
    expect(names.nameFor('select $1')).toBeUndefined();
    expect(names.nameFor('select $1')).toBe('rapport_1_0');
  });

  it('starts a new generation when its names are all taken and a text comes back, at most once a period', () => {
    let now = 0;
    const names = new PgStatementNames(2, 10, 60_000, () => now);
    for (const text of ['select $1', 'select $2']) {
      names.nameFor(text);
      names.nameFor(text);
    }
    names.nameFor('select $3');
    expect(names.nameFor('select $3')).toBeUndefined(); // full, and the generation is new
    now = 59_999;
    expect(names.nameFor('select $3')).toBeUndefined();
    expect(names.generation).toBe(0);
    now = 60_000;
    // the new generation starts, but the connection asking has the old one's statements to free first
    expect(names.nameFor('select $3')).toBeUndefined();
    expect(names.generation).toBe(1);
    expect(names.nameFor('select $3')).toBe('rapport_1_0');
    // the texts of the old generation are named again from their next two runs
    expect(names.nameFor('select $1')).toBeUndefined();
    expect(names.nameFor('select $1')).toBe('rapport_1_1');
    // a text seen once does not start a generation, however old the full one is
    names.nameFor('select $2');
    names.nameFor('select $2');
    now = 10 * 60_000;
    expect(names.nameFor('select $4')).toBeUndefined();
    expect(names.generation).toBe(1);
  });
});

describe('rowBuilder', () => {
  const text = (v: unknown) => v;
  const int = (v: unknown) => Number.parseInt(String(v), 10);

  it('builds each row as one object: values through their parsers, nulls as null, names as the server gave them', () => {
    const build = rowBuilder(
      [{ name: 'id' }, { name: 'Odd "name"\n' }, { name: '12' }, { name: 'note' }],
      [int, text, int, text],
    )!;
    const row = build(['7', 'x', '3', null]);
    expect(row).toEqual({ id: 7, 'Odd "name"\n': 'x', 12: 3, note: null });
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    // pg's own order of keys: integer-like names first, the rest as described
    expect(Object.keys(row)).toEqual(['12', 'id', 'Odd "name"\n', 'note']);
    expect(build(['8', null, null, 'n'])).toEqual({ id: 8, 'Odd "name"\n': null, 12: null, note: 'n' });
  });

  it('a repeated name keeps its last value, and a column named __proto__ is a property, not the prototype', () => {
    const build = rowBuilder([{ name: 'a' }, { name: 'a' }, { name: '__proto__' }], [text, text, text])!;
    const row = build(['first', 'last', 'p']);
    expect(row.a).toBe('last');
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(row, '__proto__')?.value).toBe('p');
  });

  it("leaves binary fields and rows without fields to pg's own parsing", () => {
    expect(rowBuilder([{ name: 'b', format: 'binary' }], [text])).toBeNull();
    expect(rowBuilder([], [])).toBeNull();
  });
});

describe.runIf(DIALECTS.includes('postgres'))('named prepared statements on PostgreSQL', () => {
  const schema = `t_stmt_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  let a: Db;
  let b: Db;
  const prepared = async (db: Db) =>
    (
      await sql<{
        statement: string;
      }>`select statement from pg_prepared_statements where not from_sql`.execute(db.kysely)
    ).rows.map((r) => r.statement);

  beforeAll(async () => {
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    await admin.query(`create table ${schema}.things (id integer primary key, name text)`);
    await admin.query(`insert into ${schema}.things values (1, 'one'), (2, 'two')`);
    // one connection each, so what one statement prepared is there for the next (no shared read connection)
    a = openDatabase({ kind: 'postgres', url: PG_URL, schema, poolSize: 1, sharedReadConnections: 0 });
    b = openDatabase({ kind: 'postgres', url: PG_URL, schema, poolSize: 1, sharedReadConnections: 0 });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await admin.query(`drop schema ${schema} cascade`);
    await admin.end();
  });

  const byId = (db: Db, id: number) =>
    sql<Record<string, unknown>>`select * from things where id = ${id}`.execute(db.kysely);

  it('a repeated statement is prepared once per connection and then only run', async () => {
    expect((await byId(a, 1)).rows).toEqual([{ id: 1, name: 'one' }]);
    expect(await prepared(a)).toEqual([]);
    expect((await byId(a, 2)).rows).toEqual([{ id: 2, name: 'two' }]);
    expect((await byId(a, 1)).rows).toEqual([{ id: 1, name: 'one' }]);
    expect(await prepared(a)).toEqual(['select * from things where id = $1']);
    // several statements in one text without parameters still run (the simple protocol)
    await sql`select 1; select 2`.execute(a.kysely);
    await sql`select 1; select 2`.execute(a.kysely);
  });

  it('when every name is taken, a new generation frees the old statements and names the texts in use again', async () => {
    // two names a generation, and a full one gives way at once
    const c = openDatabase({
      kind: 'postgres',
      url: PG_URL,
      schema,
      poolSize: 1,
      sharedReadConnections: 0,
      statementNames: new PgStatementNames(2, 10, 0),
    });
    try {
      const byName = (name: string) =>
        sql<{ id: number }>`select id from things where name = ${name}`.execute(c.kysely);
      const nameLike = (pattern: string) =>
        sql<{ id: number }>`select id from things where name like ${pattern} order by id`.execute(c.kysely);
      for (let round = 0; round < 4; round++) {
        expect((await byId(c, 1)).rows).toMatchObject([{ id: 1 }]);
        expect((await byName('two')).rows).toEqual([{ id: 2 }]);
        expect((await nameLike('%o%')).rows).toEqual([{ id: 1 }, { id: 2 }]);
        // never more than a generation's names on the connection, whatever the texts
        expect((await prepared(c)).length).toBeLessThanOrEqual(2);
      }
      // two texts in use fit a generation: both are prepared and stay
      for (let i = 0; i < 3; i++) {
        await byId(c, 1);
        await byName('one');
      }
      expect((await prepared(c)).sort()).toEqual([
        'select * from things where id = $1',
        'select id from things where name = $1',
      ]);
    } finally {
      await c.close();
    }
  });

  it("this process's own DDL, in a transaction: later statements see the new column", async () => {
    await byId(a, 1);
    await byId(a, 1);
    await a.kysely.transaction().execute(async (trx) => {
      await sql`alter table things add column colour text`.execute(trx);
      expect((await sql`select * from things where id = ${1}`.execute(trx)).rows).toEqual([
        { id: 1, name: 'one', colour: null },
      ]);
    });
    expect((await byId(a, 2)).rows).toEqual([{ id: 2, name: 'two', colour: null }]);
    expect((await byId(a, 1)).rows).toEqual([{ id: 1, name: 'one', colour: null }]);
    // the earlier generation's statements are gone from the server; the new one's is there
    expect(await prepared(a)).toEqual(['select * from things where id = $1']);
  });

  it("another process's DDL: a stale statement is prepared again and answers, with or without notice", async () => {
    await byId(a, 1);
    await byId(a, 1);
    await sql`alter table things add column size integer`.execute(b.kysely);
    // no notice reached `a` (as between another replica's commit and its notification)
    expect((await byId(a, 1)).rows).toEqual([{ id: 1, name: 'one', colour: null, size: null }]);

    await sql`alter table things add column weight integer`.execute(b.kysely);
    a.schemaChanged?.();
    expect((await byId(a, 2)).rows).toEqual([{ id: 2, name: 'two', colour: null, size: null, weight: null }]);
  });

  it('a notice that arrives inside a transaction: nothing prepared there is lost to the deallocation after it', async () => {
    const byName = (q: Db['kysely'], name: string) =>
      sql<{ id: number }>`select id from things where name = ${name}`.execute(q);
    await a.kysely.transaction().execute(async (trx) => {
      a.schemaChanged?.(); // another replica's custom field, heard mid-transaction
      // seen twice: named in the new generation, which this connection has not caught up with yet
      expect((await byName(trx, 'one')).rows).toEqual([{ id: 1 }]);
      expect((await byName(trx, 'two')).rows).toEqual([{ id: 2 }]);
    });
    // the connection frees the older generation's statements now; the text must still run (and be named)
    expect((await byName(a.kysely, 'one')).rows).toEqual([{ id: 1 }]);
    expect((await byName(a.kysely, 'two')).rows).toEqual([{ id: 2 }]);
    expect(await prepared(a)).toContain('select id from things where name = $1');
  });

  it('inside a transaction a stale statement fails that statement only; the next transaction answers', async () => {
    await byId(a, 1);
    await byId(a, 1);
    await sql`alter table things add column height integer`.execute(b.kysely);
    const failure = await a.kysely
      .transaction()
      .execute(async (trx) => sql`select * from things where id = ${1}`.execute(trx))
      .then(
        () => undefined,
        (err: unknown) => err as { code?: string },
      );
    expect(failure?.code).toBe('0A000');
    // a request that meets it is answered 503 with Retry-After, not 500
    expect(classifyDatabaseError(failure)?.kind).toBe('unavailable');
    const rows = await a.kysely
      .transaction()
      .execute(async (trx) => (await sql`select * from things where id = ${1}`.execute(trx)).rows);
    expect(rows).toEqual([{ id: 1, name: 'one', colour: null, size: null, weight: null, height: null }]);
  });

  it('a prepared statement is described once: later runs reuse its rows’ shape, and a changed table is described again', async () => {
    const describe = vi.spyOn(pg.Connection.prototype, 'describe');
    try {
      const byIdOf = (id: number) => sql`select id, name from things where id = ${id}`.execute(a.kysely);
      await byIdOf(1); // seen once: unnamed
      await byIdOf(1); // named, prepared and described
      const described = describe.mock.calls.length;
      expect((await byIdOf(2)).rows).toEqual([{ id: 2, name: 'two' }]);
      expect((await byIdOf(1)).rows).toEqual([{ id: 1, name: 'one' }]);
      expect((await byIdOf(3)).rows).toEqual([]);
      expect(describe.mock.calls.length).toBe(described);
      // another process changes the table: the prepared statement's result type changed, the server refuses
      // it, and it is prepared and described afresh
      await sql`alter table things add column shade text`.execute(b.kysely);
      const all = () => sql`select * from things where id = ${1}`.execute(a.kysely);
      await all();
      const [row] = (await all()).rows as Array<Record<string, unknown>>;
      expect(row).toMatchObject({ id: 1, name: 'one', shade: null });
      expect(Object.keys(row!).at(-1)).toBe('shade');
    } finally {
      describe.mockRestore();
    }
  });

  it("a named statement's rows are what pg itself makes of them, on the run that describes and on later runs", async () => {
    const columns = `id, name, id * 2 as "Twice ""id""", null::int as nothing, now() as at, name as name`;
    const other = new pg.Client({ connectionString: PG_URL });
    await other.connect();
    // pg's own row parsing: the first run (not yet named) uses it, the named runs use the compiled builder
    const { prototype } = createRequire(import.meta.url)('pg/lib/result.js') as {
      prototype: { parseRow(raw: unknown[]): unknown };
    };
    const pgParse = vi.spyOn(prototype, 'parseRow');
    try {
      for (let run = 0; run < 4; run++) {
        const id = 1 + (run % 2);
        pgParse.mockClear();
        const [mine] = (
          await sql<Record<string, unknown>>`select ${sql.raw(columns)} from things where id = ${id}`.execute(
            a.kysely,
          )
        ).rows;
        expect(pgParse).toHaveBeenCalledTimes(run === 0 ? 1 : 0);
        // pg's own parsing, on a connection of its own (an unnamed statement, described every time)
        const [theirs] = (await other.query(`select ${columns} from ${schema}.things where id = $1`, [id]))
          .rows;
        expect(mine).toEqual({ ...theirs, at: mine!.at });
        expect(Object.keys(mine!)).toEqual(Object.keys(theirs));
        expect(mine!.at).toBeInstanceOf(Date);
      }
    } finally {
      pgParse.mockRestore();
      await other.end();
    }
  });

  it('a transaction goes in few writes: BEGIN with its first statement, its last inserts with COMMIT', async () => {
    expect(
      await pgWritesDuring(() =>
        a.kysely.transaction().execute(async (trx) => {
          expect((await sql`select name from things where id = ${1}`.execute(trx)).rows).toEqual([
            { name: 'one' },
          ]);
          await trx.executeQuery(
            deferrable(sql`insert into things (id, name) values (${10}, ${'ten'})`.compile(trx), 'things'),
          );
        }),
      ),
    ).toBe(2);
    // inserts alone: one statement, no BEGIN or COMMIT
    expect(
      await pgWritesDuring(() =>
        a.kysely.transaction().execute(async (trx) => {
          await trx.executeQuery(
            deferrable(sql`insert into things (id, name) values (${11}, ${'eleven'})`.compile(trx), 'things'),
          );
        }),
      ),
    ).toBe(1);
    expect((await sql`select id from things where id >= 10 order by id`.execute(a.kysely)).rows).toEqual([
      { id: 10 },
      { id: 11 },
    ]);
  });

  it('writes then a read go in one write, each its own transaction: the read sees the writes committed', async () => {
    // biome-ignore lint/suspicious/noExplicitAny: a scratch table outside the schema
    const k = a.kysely as unknown as Kysely<any>;
    let wrote: unknown[] = [];
    let rows: unknown[] = [];
    const writes = await pgWritesDuring(async () => {
      rows = await writesThenRead(
        a,
        [
          k.insertInto('things').values({ id: 20, name: 'twenty' }).returning('id'),
          k.updateTable('things').set({ name: 'TWENTY' }).where('id', '=', 20),
        ],
        k.selectFrom('things').select(['id', 'name']).where('id', '>=', 20),
        (results) => {
          wrote = results.map((r) => r?.rows);
        },
      );
    });
    expect(writes).toBe(1);
    expect(wrote).toEqual([[{ id: 20 }], []]);
    expect(rows).toEqual([{ id: 20, name: 'TWENTY' }]);
    // a write that fails is what the caller hears; the ones before it committed on their own, and `wrote`
    // hears them
    await expect(
      writesThenRead(
        a,
        [
          k.insertInto('things').values({ id: 21, name: 'twenty-one' }),
          k.insertInto('things').values({ id: 20, name: 'again' }),
        ],
        k.selectFrom('things').select('id').where('id', '>=', 20),
        (results) => {
          wrote = results.map((r) => r?.rows);
        },
      ),
    ).rejects.toMatchObject({ code: '23505' });
    expect(wrote).toEqual([[], undefined]);
    // a read that fails still tells what was written
    await expect(
      writesThenRead(
        a,
        [k.insertInto('things').values({ id: 22, name: 'twenty-two' }).returning('id')],
        k.selectFrom('no_such_table').selectAll(),
        (results) => {
          wrote = results.map((r) => r?.rows);
        },
      ),
    ).rejects.toMatchObject({ code: '42P01' });
    expect(wrote).toEqual([[{ id: 22 }]]);
    expect(
      (await k.selectFrom('things').select('id').where('id', '>=', 20).orderBy('id').execute()).map(
        (r) => r.id,
      ),
    ).toEqual([20, 21, 22]);
  });

  it('statements and a transaction go in one write; a failure in the transaction rolls back only it', async () => {
    // biome-ignore lint/suspicious/noExplicitAny: a scratch table outside the schema
    const k = a.kysely as unknown as Kysely<any>;
    let settled: Awaited<ReturnType<typeof sendTogether>> = [];
    const writes = await pgWritesDuring(async () => {
      settled = await sendTogether(a.kysely, [
        k.insertInto('things').values({ id: 30, name: 'thirty' }),
        [
          // the transaction sees what the statement before it committed
          k.updateTable('things').set({ name: 'THIRTY' }).where('id', '=', 30).returning('name'),
          k.insertInto('things').values({ id: 31, name: 'thirty-one' }).returning('id'),
        ],
      ]);
    });
    expect(writes).toBe(1);
    expect(allResults(settled).map((r) => r.rows)).toEqual([[], [{ name: 'THIRTY' }], [{ id: 31 }]]);
    settled = await sendTogether(a.kysely, [
      k.insertInto('things').values({ id: 32, name: 'thirty-two' }),
      [
        k.insertInto('things').values({ id: 33, name: 'thirty-three' }),
        k.insertInto('things').values({ id: 30, name: 'again' }),
        k.insertInto('things').values({ id: 34, name: 'thirty-four' }),
      ],
      k.insertInto('things').values({ id: 35, name: 'thirty-five' }),
    ]);
    expect(settled.map((r) => r.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'rejected',
      'fulfilled',
    ]);
    expect(() => allResults(settled)).toThrow(expect.objectContaining({ code: '23505' }));
    expect(
      (await k.selectFrom('things').select('id').where('id', '>=', 30).orderBy('id').execute()).map(
        (r) => r.id,
      ),
    ).toEqual([30, 31, 32, 35]);
  });
});
