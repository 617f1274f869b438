import { sql } from 'kysely';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DIALECTS, PG_URL } from '../../test/harness.js';
import { type Db, openDatabase } from './database.js';

describe.runIf(DIALECTS.includes('postgres'))('the PostgreSQL pool', () => {
  let db: Db | undefined;
  afterEach(async () => {
    vi.useRealTimers();
    await db?.close();
  });

  it('keeps its connections through a quiet spell: the next request does not pay for a new one', async () => {
    // every statement through the pool, none through the shared read connections
    db = openDatabase({ kind: 'postgres', url: PG_URL, poolSize: 1, sharedReadConnections: 0 });
    const backend = async () =>
      (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db!.kysely)).rows[0]!.pid;
    // a clock the pool's idle timer runs on (pg's default closed a connection after 10 s of rest)
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const first = await backend();
    await vi.advanceTimersByTimeAsync(60_000);
    vi.useRealTimers();
    expect(await backend()).toBe(first);
  });
});
