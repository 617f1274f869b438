import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { afterEach, expect, it } from 'vitest';
import { classifyDatabaseError } from './db-errors.js';
import { ReadTimeoutError, SqliteReadPool } from './sqlite-read-pool.js';

/** The report worker pool is SQLite's alone (PostgreSQL has statement_timeout); these run on a file. */
const dirs: string[] = [];
const pools: SqliteReadPool[] = [];
afterEach(async () => {
  for (const p of pools.splice(0)) await p.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function database(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'rapport-readpool-'));
  dirs.push(dir);
  const file = path.join(dir, 'rapport.db');
  const db = new SQLite(file);
  db.pragma('journal_mode = WAL');
  db.exec('create table t (n integer)');
  db.prepare('insert into t (n) select value from json_each(?)').run(
    JSON.stringify(Array.from({ length: 5000 }, (_, i) => i)),
  );
  db.close();
  return file;
}

function pool(file: string, size: number): SqliteReadPool {
  const p = new SqliteReadPool(file, { size });
  pools.push(p);
  return p;
}

/** A statement that runs for seconds in SQLite and returns one row at the end. */
const SLOW = {
  sql: 'with recursive n(i) as (select 1 union all select i + 1 from n where i < 30000000) select count(*) as c from n',
  parameters: [],
};

it('runs statements on a worker and answers rows as arrays with their column names', async () => {
  const p = pool(database(), 1);
  const [a, b] = await p.all(
    [
      { sql: 'select count(*) as c from t where n >= ?', parameters: [4000] },
      { sql: 'select n from t order by n limit 2', parameters: [] },
    ],
    5000,
  );
  expect(a).toEqual({ columns: ['c'], rows: [[1000]] });
  expect(b).toEqual({ columns: ['n'], rows: [[0], [1]] });
});

it('a statement past the time limit fails at once; the worker is replaced once it has exited', async () => {
  const p = pool(database(), 1);
  await p.all([{ sql: 'select 1', parameters: [] }], 5000); // a worker is up
  const started = performance.now();
  await expect(p.all([SLOW], 100)).rejects.toBeInstanceOf(ReadTimeoutError);
  expect(performance.now() - started).toBeLessThan(1000);
  // the one slot is held by the stopping worker until it exits; then a new one answers
  const [r] = await p.all([{ sql: 'select count(*) as c from t', parameters: [] }], 60_000);
  expect(r!.rows).toEqual([[5000]]);
}, 90_000);

it('streams in batches, reads ahead only when asked, and an early end frees the worker', async () => {
  const p = pool(database(), 1);
  const batches: number[] = [];
  for await (const b of p.stream({ sql: 'select n from t order by n', parameters: [] }, 1000, 5000)) {
    batches.push(b.rows.length);
    expect(p.active).toBe(1);
    if (batches.length === 2) break;
  }
  expect(batches).toEqual([1000, 1000]);
  expect(p.active).toBe(0);
  const [r] = await p.all([{ sql: 'select 42 as x', parameters: [] }], 2000);
  expect(r!.rows).toEqual([[42]]);
  let rows = 0;
  for await (const b of p.stream({ sql: 'select n from t', parameters: [] }, 1000, 5000))
    rows += b.rows.length;
  expect(rows).toBe(5000);
});

it('a SQLite error keeps its code; closing the database mid-statement is "unavailable", not a 500', async () => {
  const p = pool(database(), 1);
  const err = await p.all([{ sql: 'select * from missing', parameters: [] }], 5000).catch((e) => e);
  expect(String(err.message)).toMatch(/no such table/);
  expect(err.code).toBe('SQLITE_ERROR');
  const running = p.all([SLOW], 60_000).catch((e) => e);
  await new Promise((r) => setTimeout(r, 100));
  await p.close();
  expect(classifyDatabaseError(await running)?.kind).toBe('unavailable');
  await expect(p.all([{ sql: 'select 1', parameters: [] }], 1000)).rejects.toThrow(/closing/);
}, 90_000);
