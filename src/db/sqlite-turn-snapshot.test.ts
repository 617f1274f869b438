import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Db, openDatabase } from './database.js';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('the read snapshot of a turn (SQLite)', () => {
  let dir: string;
  let db: Db;
  /** another connection to the same file, as another process would have */
  let other: SQLite.Database;
  const count = async () =>
    Number((await sql<{ n: number }>`select count(*) as n from t`.execute(db.kysely)).rows[0]!.n);
  const otherCount = () => (other.prepare('select count(*) as n from t').get() as { n: number }).n;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'rapport-snapshot-'));
    db = openDatabase({ kind: 'sqlite', file: path.join(dir, 'rapport.db') });
    await sql`create table t (id integer primary key, v integer)`.execute(db.kysely);
    other = new SQLite(path.join(dir, 'rapport.db'));
    other.pragma('busy_timeout = 0');
    await nextTurn();
  });

  afterEach(async () => {
    other.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lets the reads of one turn share one read transaction, and ends it with the turn', async () => {
    const snapshot = db.turnSnapshot!;
    const before = { ...snapshot.stats };
    await Promise.all([count(), count(), count(), count(), count()]);
    // the first read ran alone, the second opened the snapshot, the other three joined it
    expect(snapshot.stats.opened - before.opened).toBe(1);
    expect(snapshot.stats.joined - before.joined).toBe(3);

    // it is a snapshot: another connection's commit is not seen until the turn ends…
    other.prepare('insert into t (v) values (1)').run();
    expect(await count()).toBe(0);
    // …and while it is open, a full checkpoint cannot finish; once the turn ended, nothing holds the log
    expect(other.pragma('wal_checkpoint(TRUNCATE)')).toEqual([
      { busy: 1, log: expect.any(Number), checkpointed: expect.any(Number) },
    ]);
    await nextTurn();
    expect(await count()).toBe(1);
    await nextTurn();
    expect(other.pragma('wal_checkpoint(TRUNCATE)')).toEqual([{ busy: 0, log: 0, checkpointed: 0 }]);
  });

  it('ends before any statement that is not a plain read, so writes commit at once and are read back', async () => {
    await count();
    await count(); // the snapshot is open
    other.prepare('insert into t (v) values (1)').run();

    // a write: commits at once (another connection sees it in the same turn), and the reads after it are
    // as new as the write
    await sql`insert into t (v) values (2)`.execute(db.kysely);
    expect(otherCount()).toBe(2);
    expect(await count()).toBe(2);
    await count(); // open again

    // a write that returns rows is a reader to better-sqlite3, but not a plain read
    const returned = await sql<{ id: number }>`insert into t (v) values (3) returning id`.execute(db.kysely);
    expect(returned.rows).toHaveLength(1);
    expect(otherCount()).toBe(3);
    await count();
    await count();

    // a transaction begins although the turn's snapshot was open, and reads inside it are its own
    await db.kysely.transaction().execute(async (trx) => {
      await sql`insert into t (v) values (4)`.execute(trx);
      expect(Number((await sql<{ n: number }>`select count(*) as n from t`.execute(trx)).rows[0]!.n)).toBe(4);
      expect(otherCount()).toBe(3);
    });
    expect(otherCount()).toBe(4);
    expect(await count()).toBe(4);

    // a failed transaction rolls back as before
    await expect(
      db.kysely.transaction().execute(async (trx) => {
        await sql`insert into t (v) values (5)`.execute(trx);
        throw new Error('no');
      }),
    ).rejects.toThrow('no');
    expect(await count()).toBe(4);
    await nextTurn();
    expect(otherCount()).toBe(4);
  });

  it('reads every statement alone when turned off', async () => {
    const off = openDatabase({ kind: 'sqlite', file: path.join(dir, 'rapport.db'), turnSnapshot: false });
    try {
      expect(off.turnSnapshot).toBeUndefined();
      await sql`select 1`.execute(off.kysely);
      await sql`select 1`.execute(off.kysely);
      other.prepare('insert into t (v) values (1)').run();
      expect(
        Number((await sql<{ n: number }>`select count(*) as n from t`.execute(off.kysely)).rows[0]!.n),
      ).toBe(1);
    } finally {
      await off.close();
    }
  });
});
