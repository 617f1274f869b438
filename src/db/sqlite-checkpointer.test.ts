import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, expect, it } from 'vitest';
import { openDatabase } from './database.js';

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

it('copies the write-ahead log into the database file off the serving connection', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'rapport-ckpt-'));
  dirs.push(dir);
  const file = path.join(dir, 'rapport.db');
  const db = openDatabase({ kind: 'sqlite', file });
  db.startBackgroundWork?.();
  try {
    // the serving connection no longer checkpoints by itself…
    const { rows } = await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(db.kysely);
    expect(rows[0]?.wal_autocheckpoint).toBe(0);
    await sql`create table t (id integer primary key, body text)`.execute(db.kysely);
    const before = statSync(file).size;
    for (let i = 0; i < 200; i++)
      await sql`insert into t (body) values (${'x'.repeat(2000)})`.execute(db.kysely);
    // …yet the rows reach the database file: the worker's checkpoints copied them there
    expect(await until(() => statSync(file).size > before + 200 * 2000)).toBe(true);
  } finally {
    await db.close();
  }
});
