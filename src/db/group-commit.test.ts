import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Kysely, sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Db, openDatabase } from './database.js';
import { type GroupCommit, writesThenRead } from './group-commit.js';

// SQLite only: PostgreSQL runs every unit of work in a transaction of its own (unit-of-work.test.ts checks
// that both keep the same promises)
describe('SQLite group commit', () => {
  let dir: string;
  let db: Db;
  let group: GroupCommit;
  // biome-ignore lint/suspicious/noExplicitAny: a scratch table outside the schema
  const k = () => db.kysely as unknown as Kysely<any>;
  const values = async () =>
    ((await k().selectFrom('t').select('v').orderBy('v').execute()) as Array<{ v: string }>).map((r) => r.v);
  // biome-ignore lint/suspicious/noExplicitAny: any transaction
  const insert = (v: string) => (trx: Kysely<any>) =>
    sql`insert into t (v) values (${v})`.execute(trx).then(() => v);

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'rapport-group-'));
    // these tests are about which units share a batch: on a busy machine the first unit alone can take the
    // batch past its 8 ms, which commits it by itself (seen in a full run: "kept-not" committed alone)
    db = openDatabase({ kind: 'sqlite', file: path.join(dir, 'db.sqlite'), groupCommit: { maxMs: 60_000 } });
    group = db.groupCommit!;
    await sql`create table t (id integer primary key, v text not null unique)`.execute(db.kysely);
  });
  afterEach(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('commits units that queue together, each settling after the commit with its own result', async () => {
    const before = { ...group.stats };
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => group.run(insert(`v${i}`))));
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => `v${i}`));
    expect(group.stats.units - before.units).toBe(20);
    // they queued while the first ran: far fewer transactions than units
    expect(group.stats.batches - before.batches).toBeLessThanOrEqual(2);
    expect(await values()).toHaveLength(20);
  });

  it('waits one turn of the event loop before committing, so requests read meanwhile join', async () => {
    const before = { ...group.stats };
    // better-sqlite3 never yields: without that turn the first unit commits before these ever run
    const late = new Promise<string>((resolve) => setImmediate(() => resolve(group.run(insert('late')))));
    const first = group.run(insert('first'));
    expect(await Promise.all([first, late])).toEqual(['first', 'late']);
    expect(group.stats.batches - before.batches).toBe(1);
  });

  it('a unit that fails undoes only its own writes; the others in its batch commit', async () => {
    const runs = Array.from({ length: 9 }, (_, i) =>
      group.run(async (trx) => {
        await insert(`w${i}`)(trx);
        await insert(`x${i}`)(trx);
        // the first, a middle and the last unit fail after writing
        if (i % 4 === 0) throw new Error(`unit ${i} failed`);
        return i;
      }),
    );
    const settled = await Promise.allSettled(runs);
    expect(settled.map((s) => s.status)).toEqual(
      Array.from({ length: 9 }, (_, i) => (i % 4 === 0 ? 'rejected' : 'fulfilled')),
    );
    expect((settled[4] as PromiseRejectedResult).reason).toEqual(new Error('unit 4 failed'));
    expect(await values()).toEqual([1, 2, 3, 5, 6, 7].flatMap((i) => [`w${i}`, `x${i}`]).sort());
  });

  it('writes then a read: the writes in the group commit, the read after their batch committed', async () => {
    const before = { ...group.stats };
    let wrote: unknown[] = [];
    const read = k().selectFrom('t').select('v').orderBy('v');
    const [rows] = await Promise.all([
      writesThenRead(
        db,
        [k().insertInto('t').values({ v: 'r1' }).returning('v'), k().insertInto('t').values({ v: 'r2' })],
        read,
        (results) => {
          wrote = results.map((r) => r?.rows);
        },
      ),
      group.run(insert('alongside')),
    ]);
    expect(wrote).toEqual([[{ v: 'r1' }], []]);
    expect(rows).toEqual([{ v: 'alongside' }, { v: 'r1' }, { v: 'r2' }]);
    // one unit, in the same batch as the work queued alongside
    expect(group.stats.units - before.units).toBe(2);
    expect(group.stats.batches - before.batches).toBe(1);
    // a write that fails fails the unit: its writes roll back together, and `wrote` is not called
    wrote = [];
    await expect(
      writesThenRead(
        db,
        [k().insertInto('t').values({ v: 'r3' }), k().insertInto('t').values({ v: 'r1' })],
        read,
        (results) => {
          wrote = results;
        },
      ),
    ).rejects.toThrow(/UNIQUE/);
    expect(wrote).toEqual([]);
    expect(await values()).toEqual(['alongside', 'r1', 'r2']);
  });

  it('a batch takes no more units once it has run maxMs: the first answers are not held for long', async () => {
    const other = openDatabase({
      kind: 'sqlite',
      file: path.join(dir, 'other.sqlite'),
      groupCommit: { maxMs: 0 },
    });
    try {
      await sql`create table t (v text)`.execute(other.kysely);
      const g = other.groupCommit!;
      const before = { ...g.stats };
      await Promise.all(
        ['a', 'b', 'c', 'd'].map((v) => g.run((trx) => sql`insert into t values (${v})`.execute(trx))),
      );
      expect(g.stats.units - before.units).toBe(4);
      expect(g.stats.batches - before.batches).toBe(4);
    } finally {
      await other.close();
    }
  });

  it('a constraint error in one unit leaves the others alone', async () => {
    const settled = await Promise.allSettled(['a', 'b', 'a', 'c'].map((v) => group.run(insert(v))));
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(await values()).toEqual(['a', 'b', 'c']);
  });

  it('when SQLite ends the transaction itself, every unit of the batch so far fails with that error', async () => {
    const settled = await Promise.allSettled([
      group.run(insert('kept-not')),
      group.run(async (trx) => {
        await insert('lost')(trx);
        // what SQLite does on a full disk or an I/O error: the whole transaction is rolled back
        await sql`rollback`.execute(trx);
        throw new Error('disk full');
      }),
    ]);
    expect(settled.map((s) => (s.status === 'rejected' ? String(s.reason) : s.value))).toEqual([
      'Error: disk full',
      'Error: disk full',
    ]);
    expect(await values()).toEqual([]);
    // the next units start afresh
    await group.run(insert('after'));
    expect(await values()).toEqual(['after']);
  });

  it('a unit that says so, from its result, ends its batch: the next ones commit after it', async () => {
    const before = { ...group.stats };
    const heard: string[] = [];
    const ends = (v: string) => {
      heard.push(v);
      return v === 'p2';
    };
    await Promise.all([
      group.run(insert('p1')),
      group.run(insert('p2'), ends),
      group.run(insert('p3'), ends),
      group.run(insert('p4')),
    ]);
    expect(heard).toEqual(['p2', 'p3']);
    expect(group.stats.batches - before.batches).toBe(2);
    expect(await values()).toEqual(['p1', 'p2', 'p3', 'p4']);
  });

  it('a unit that fails is not asked whether it ends its batch: nothing of it committed', async () => {
    const before = { ...group.stats };
    let asked = 0;
    const settled = await Promise.allSettled([
      group.run(insert('q1')),
      group.run(
        async () => {
          throw new Error('no');
        },
        () => {
          asked++;
          return true;
        },
      ),
      group.run(insert('q2')),
    ]);
    expect(settled.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(asked).toBe(0);
    expect(group.stats.batches - before.batches).toBe(1);
  });

  it('stops taking units at maxUnits', async () => {
    const { GroupCommit: Group } = await import('./group-commit.js');
    const small = new Group(db.kysely, () => true, { maxUnits: 3 });
    await Promise.all(Array.from({ length: 7 }, (_, i) => small.run(insert(`m${i}`))));
    expect(small.stats).toEqual({ batches: 3, units: 7 });
  });
});
