import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, expect, it } from 'vitest';
import { openDatabase, WAL_SIZE_LIMIT } from './database.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function until(check: () => boolean, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/** A serving database in a new directory, its checkpoint worker started as `serve` starts it. */
function openServing() {
  const dir = mkdtempSync(path.join(tmpdir(), 'rapport-ckpt-'));
  dirs.push(dir);
  const file = path.join(dir, 'rapport.db');
  const db = openDatabase({ kind: 'sqlite', file });
  db.startBackgroundWork?.();
  return { file, db };
}

it('copies the write-ahead log into the database file off the serving connection', async () => {
  const { file, db } = openServing();
  const autocheckpoint = async () =>
    (await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(db.kysely)).rows[0]
      ?.wal_autocheckpoint;
  try {
    // no worker while the log is small: the serving connection keeps SQLite's own checkpoints
    await new Promise((r) => setTimeout(r, 600));
    expect(await autocheckpoint()).toBe(1000);
    await sql`create table t (id integer primary key, body text)`.execute(db.kysely);
    const before = statSync(file).size;
    for (let i = 0; i < 200; i++)
      await sql`insert into t (body) values (${'x'.repeat(2000)})`.execute(db.kysely);
    // the log grew (~100 pages, far below SQLite's own 1,000): the worker started, the serving connection
    // no longer checkpoints by itself, yet the rows reach the database file through the worker
    expect(await until(() => statSync(file).size > before + 200 * 2000)).toBe(true);
    expect(await autocheckpoint()).toBe(0);
  } finally {
    await db.close();
  }
});

it('gives the log file back once writes pause, down to the limit', async () => {
  const { file, db } = openServing();
  const wal = () => statSync(`${file}-wal`).size;
  try {
    await sql`create table t (id integer primary key, body text)`.execute(db.kysely);
    // a log past the limit, written in one transaction (no checkpoint can finish in between)
    const chunk = 'x'.repeat(100_000);
    await db.kysely.transaction().execute(async (trx) => {
      for (let i = 0; i * chunk.length < WAL_SIZE_LIMIT * 1.2; i++)
        await sql`insert into t (body) values (${chunk})`.execute(trx);
    });
    expect(wal()).toBeGreaterThan(WAL_SIZE_LIMIT);
    // the writes pause: the worker copies the log back; the next write starts it over and truncates it
    let small = false;
    for (let i = 0; i < 100 && !small; i++) {
      await new Promise((r) => setTimeout(r, 100));
      await sql`insert into t (body) values ('after')`.execute(db.kysely);
      small = wal() <= WAL_SIZE_LIMIT;
    }
    expect(small).toBe(true);
  } finally {
    await db.close();
  }
});
