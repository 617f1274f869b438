import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, PG_URL, pgWritesDuring } from '../../test/harness.js';
import { type Db, openDatabase } from './database.js';
import { classifyDatabaseError } from './db-errors.js';
import { deferrable } from './deferred-inserts.js';
import { isPlainRead } from './pg-shared-reads.js';

describe('isPlainRead', () => {
  it('takes a SELECT that locks, writes, notifies and sets nothing; nothing else', () => {
    for (const text of [
      'select * from "things" where "id" = $1',
      '  SELECT count(*) from things',
      'select "e"."id" from "entities" as "e" order by "e"."id" limit 10 offset $1',
    ])
      expect(isPlainRead(text), text).toBe(true);
    for (const text of [
      'insert into things values ($1)',
      'update things set name = $1',
      'delete from things',
      'with "x" as (insert into things values ($1) returning id) select * from x',
      'select * from things where id = $1 for update',
      'select * from things for no key update skip locked',
      'select * from things for share',
      'select * from things for key share',
      "select set_config('synchronous_commit', 'off', true)",
      'select pg_notify($1, $2)',
      'select pg_try_advisory_xact_lock(1, 2)',
      "select nextval('s')",
      "select currval('s')",
      'select lastval()',
      'select * into copy_of_things from things',
      'select pg_sleep(1)',
      'begin',
      'commit',
      'set statement_timeout = 5',
    ])
      expect(isPlainRead(text), text).toBe(false);
  });
});

describe.runIf(DIALECTS.includes('postgres'))('reads sharing a connection on PostgreSQL', () => {
  const schema = `t_shared_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  let db: Db;

  beforeAll(async () => {
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    await admin.query(`create table ${schema}.things (id integer primary key, name text)`);
    await admin.query(`insert into ${schema}.things values (1, 'one'), (2, 'two')`);
    db = openDatabase({ kind: 'postgres', url: PG_URL, schema, poolSize: 2, sharedReadConnections: 1 });
    await sharedIsOpen();
  });
  afterAll(async () => {
    await db?.close();
    await admin.query(`drop schema ${schema} cascade`);
    await admin.end();
  });

  /** which connection answered: the shared one is named rapport-reads */
  const served = async (on: Db = db) =>
    (
      await sql<{ app: string; pid: number }>`
        select current_setting('application_name') as app, pg_backend_pid() as pid, ${1}::int as one`.execute(
        on.kysely,
      )
    ).rows[0]!;
  const byId = async (id: number) =>
    (await sql<{ id: number; name: string }>`select id, name from things where id = ${id}`.execute(db.kysely))
      .rows;
  /** the shared connection opens on the first read; until then reads take the pool */
  async function sharedIsOpen(on: Db = db): Promise<number> {
    for (let i = 0; i < 100; i++) {
      const s = await served(on);
      if (s.app === 'rapport-reads') return s.pid;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('the shared read connection did not open');
  }

  it('reads given in the same turn leave in one write, on the shared connection, and each gets its own rows', async () => {
    await sharedIsOpen();
    await byId(1); // a statement text shares once a read of it was quick
    let answers: Array<Array<{ id: number; name: string }>> = [];
    let apps: string[] = [];
    const writes = await pgWritesDuring(async () => {
      const reads = Promise.all(Array.from({ length: 20 }, (_, i) => byId((i % 3) + 1)));
      const who = Promise.all(Array.from({ length: 5 }, () => served()));
      [answers, apps] = [await reads, (await who).map((s) => s.app)];
    });
    expect(writes).toBe(1);
    expect(apps).toEqual(Array(5).fill('rapport-reads'));
    answers.forEach((rows, i) => {
      const id = (i % 3) + 1;
      expect(rows).toEqual(id === 3 ? [] : [{ id, name: id === 1 ? 'one' : 'two' }]);
    });
  });

  it("a transaction's statements stay on its pooled connection; others read only what it committed", async () => {
    await sharedIsOpen();
    await db.kysely.transaction().execute(async (trx) => {
      await sql`insert into things values (${50}, ${'fifty'})`.execute(trx);
      const inside = await sql<{ app: string; n: number }>`
        select current_setting('application_name') as app, count(*)::int as n from things where id = ${50}`.execute(
        trx,
      );
      expect(inside.rows[0]).toEqual({ app: expect.not.stringMatching('rapport-reads'), n: 1 });
      expect(await byId(50)).toEqual([]);
    });
    // committed before the read was sent: the shared connection sees it
    expect(await byId(50)).toEqual([{ id: 50, name: 'fifty' }]);
    expect((await served()).app).toBe('rapport-reads');
  });

  it('a transaction through the sharing pool still goes in two writes: BEGIN with its first statement, the rest with COMMIT', async () => {
    await sharedIsOpen();
    const writes = await pgWritesDuring(() =>
      db.kysely.transaction().execute(async (trx) => {
        expect((await sql`select name from things where id = ${1}`.execute(trx)).rows).toEqual([
          { name: 'one' },
        ]);
        await trx.executeQuery(
          deferrable(sql`insert into things (id, name) values (${70}, ${'seventy'})`.compile(trx), 'things'),
        );
      }),
    );
    expect(writes).toBe(2);
    expect(await byId(70)).toEqual([{ id: 70, name: 'seventy' }]);
  });

  it('a write after a shared read on the same client waits for the read, then takes the pool', async () => {
    await sharedIsOpen();
    const [before, , after] = await db.kysely
      .connection()
      .execute((c) =>
        Promise.all([
          sql<{ n: number }>`select count(*)::int as n from things where id = ${60}`.execute(c),
          sql`insert into things values (${60}, ${'sixty'})`.execute(c),
          sql<{ n: number }>`select count(*)::int as n from things where id = ${60}`.execute(c),
        ]),
      );
    expect(before.rows[0]!.n).toBe(0);
    expect(after.rows[0]!.n).toBe(1);
  });

  it('a failing read fails alone; the reads sent with it are answered', async () => {
    await sharedIsOpen();
    const results = await Promise.allSettled([
      byId(1),
      sql`select id from things where id = ${'not a number'}`.execute(db.kysely),
      sql`select id from things where name = ${'a\u0000b'}`.execute(db.kysely),
      served(),
    ]);
    expect(results[0]).toMatchObject({ status: 'fulfilled', value: [{ id: 1, name: 'one' }] });
    expect(results[1]).toMatchObject({ status: 'rejected', reason: { code: '22P02' } });
    expect(results[2]).toMatchObject({ status: 'rejected' });
    expect(classifyDatabaseError((results[2] as PromiseRejectedResult).reason)?.kind).not.toBe('unavailable');
    expect(results[3]).toMatchObject({ status: 'fulfilled', value: { app: 'rapport-reads' } });
  });

  /**
   * Counts to n on the server (slow for a large n) and says which connection answered; each `text` is a
   * statement text of its own, whose speed is learnt apart.
   */
  const countTo = async (n: number, text = 'a') =>
    (
      await sql<{ n: number; app: string }>`
        select count(*)::int as n, current_setting('application_name') as app
        from generate_series(1, ${n}::int) as ${sql.raw(text)}`.execute(db.kysely)
    ).rows[0]!;

  it('a statement text shares once a read of it was quick, and stops when one is slow, until it is quick again on the pool', async () => {
    await sharedIsOpen();
    expect((await countTo(10)).app).not.toBe('rapport-reads'); // new: on the pool, timed
    expect(await countTo(10)).toEqual({ n: 10, app: 'rapport-reads' });
    expect(await countTo(3_000_000)).toMatchObject({ app: 'rapport-reads' }); // slow (≥ 50 ms)
    const after = await countTo(10);
    expect(after.app).not.toBe('rapport-reads');
    // it shares again after fifty quick reads on the pool (more if one of them was slow: a busy machine)
    let onThePool = 1;
    while ((await countTo(10)).app !== 'rapport-reads') {
      onThePool++;
      if (onThePool > 2000) throw new Error('the statement never shared again');
    }
    expect(onThePool).toBeGreaterThanOrEqual(50);
  });

  it('a read is not queued behind a slow one: it takes a pooled connection and is answered first', async () => {
    await sharedIsOpen();
    await countTo(10, 'b'); // known quick, so the slow read below shares
    const order: string[] = [];
    const slow = countTo(3_000_000, 'b').then((r) => {
      order.push('slow');
      return r;
    });
    await new Promise((r) => setTimeout(r, 30));
    const quick = await served();
    order.push('quick');
    expect((await slow).app).toBe('rapport-reads');
    expect(order).toEqual(['quick', 'slow']);
    expect(quick.app).not.toBe('rapport-reads');
  });

  it('a DDL of this process: the shared connection prepares its statements afresh', async () => {
    const wide = async () =>
      (await sql<Record<string, unknown>>`select * from things where id = ${2}`.execute(db.kysely)).rows[0];
    for (let i = 0; i < 3; i++) expect(await wide()).toEqual({ id: 2, name: 'two' });
    await sql`alter table things add column shade text`.execute(db.kysely);
    expect(await wide()).toEqual({ id: 2, name: 'two', shade: null });
    expect((await served()).app).toBe('rapport-reads');
  });

  it('a lost shared connection fails the reads in flight as unavailable; reads go on, and it is opened again', async () => {
    const pid = await sharedIsOpen();
    await countTo(10, 'c');
    const inFlight = countTo(3_000_000, 'c').then(
      () => null,
      (err: unknown) => err,
    );
    await new Promise((r) => setTimeout(r, 30));
    await admin.query('select pg_terminate_backend($1)', [pid]);
    const failure = await inFlight;
    expect(classifyDatabaseError(failure)?.kind).toBe('unavailable');
    // the next reads are answered (by the pool until the shared connection is open again)
    expect(await byId(1)).toEqual([{ id: 1, name: 'one' }]);
    const again = await sharedIsOpen();
    expect(again).not.toBe(pid);
  });

  it('closing the database ends the shared connection', async () => {
    const other = openDatabase({ kind: 'postgres', url: PG_URL, schema, sharedReadConnections: 1 });
    const pid = await sharedIsOpen(other);
    await other.close();
    for (let i = 0; i < 100; i++) {
      const { rows } = await admin.query('select 1 from pg_stat_activity where pid = $1', [pid]);
      if (rows.length === 0) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('the shared connection is still open after close');
  });
});
