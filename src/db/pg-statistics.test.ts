import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, expectStatus, Harness } from '../../test/harness.js';
import { openDatabase } from './database.js';
import { StatisticsKeeper } from './pg-statistics.js';

describe.runIf(DIALECTS.includes('postgres'))(
  'planner statistics where autovacuum is off (PostgreSQL)',
  () => {
    const h = new Harness('postgres');
    beforeAll(() => h.start(), 60_000);
    afterAll(() => h.stop());

    /** When the table was last analyzed or vacuumed by hand (that is, not by autovacuum). */
    const lastDone = async (table: string, what: 'last_analyze' | 'last_vacuum') =>
      (
        await sql<{ at: Date | null }>`select ${sql.ref(what)} as at from pg_stat_user_tables
        where schemaname = current_schema() and relname = ${table}`.execute(h.ctx.db.kysely)
      ).rows[0]?.at ?? null;

    const autovacuumOn = async () =>
      (await sql<{ on: string }>`select current_setting('autovacuum') as on`.execute(h.ctx.db.kysely)).rows[0]
        ?.on === 'on';

    it("analyzes this schema's tables once enough of their rows changed, as autovacuum would, and then not again", async () => {
      const keeper = new StatisticsKeeper(h.ctx.db.kysely);
      if (await autovacuumOn()) {
        // autovacuum keeps the statistics: nothing for Rapport to do
        expect(await keeper.runOnce()).toEqual([]);
        return;
      }
      await keeper.runOnce(); // what the start-up left stale
      for (let i = 0; i < 60; i++) {
        const res = await h.request({
          method: 'POST',
          url: '/api/v1/records/Contacts',
          as: h.admin,
          payload: { lastname: `Stat ${i}` },
        });
        expectStatus(res, 201);
      }
      // a backend reports its counts to the statistics at most once a second
      let analyzed: string[] = [];
      for (let i = 0; i < 40 && !analyzed.includes('crm_entities'); i++) {
        await new Promise((r) => setTimeout(r, 500));
        analyzed = [...analyzed, ...(await keeper.runOnce())];
      }
      expect(analyzed).toContain('crm_entities');
      expect(analyzed).toContain('crm_contacts');
      expect(analyzed).not.toContain('users');
      expect(await lastDone('crm_entities', 'last_analyze')).not.toBeNull();
      expect(await keeper.runOnce()).not.toContain('crm_entities');
    }, 60_000);

    it('vacuums the tables where enough rows died, as autovacuum would, and then not again', async () => {
      const keeper = new StatisticsKeeper(h.ctx.db.kysely);
      if (await autovacuumOn()) {
        expect(await keeper.vacuumOnce()).toEqual([]);
        return;
      }
      await keeper.vacuumOnce(); // what the start-up left
      const at = 1_000;
      await h.ctx.db.kysely
        .insertInto('auth_failures')
        .values(
          Array.from({ length: 500 }, (_, i) => ({ scope: 'key-ip' as const, key: `vacuum-test-${i}`, at })),
        )
        .execute();
      await h.ctx.db.kysely.deleteFrom('auth_failures').where('key', 'like', 'vacuum-test-%').execute();
      const before = await lastDone('auth_failures', 'last_vacuum');
      let vacuumed: string[] = [];
      for (let i = 0; i < 40 && !vacuumed.includes('auth_failures'); i++) {
        await new Promise((r) => setTimeout(r, 500));
        vacuumed = [...vacuumed, ...(await keeper.vacuumOnce())];
      }
      expect(vacuumed).toContain('auth_failures');
      expect(vacuumed).not.toContain('users');
      expect(await lastDone('auth_failures', 'last_vacuum')).not.toEqual(before);
      expect(await keeper.vacuumOnce()).not.toContain('auth_failures');
    }, 60_000);

    it('stopping cancels a VACUUM in flight instead of waiting for it', async () => {
      if (await autovacuumOn()) return; // nothing to vacuum, nothing to cancel
      const k = h.ctx.db.kysely;
      await k
        .insertInto('auth_failures')
        .values(
          Array.from({ length: 500 }, (_, i) => ({
            scope: 'key-ip' as const,
            key: `vacuum-stop-${i}`,
            at: 1,
          })),
        )
        .execute();
      await k.deleteFrom('auth_failures').where('key', 'like', 'vacuum-stop-%').execute();
      // until the statistics count the dead rows (a backend reports at most once a second)
      const dead = async () =>
        Number(
          (
            await sql<{ n: string }>`select n_dead_tup as n from pg_stat_user_tables
            where schemaname = current_schema() and relname = 'auth_failures'`.execute(k)
          ).rows[0]?.n ?? 0,
        );
      for (let i = 0; i < 40 && (await dead()) < 400; i++) await new Promise((r) => setTimeout(r, 500));
      // a transaction holds a lock VACUUM waits for, as a long one could on a live server
      let release = () => {};
      let locked = () => {};
      const isLocked = new Promise<void>((r) => {
        locked = r;
      });
      const holder = k.transaction().execute(async (trx) => {
        await sql`lock table auth_failures in share update exclusive mode`.execute(trx);
        locked();
        await new Promise<void>((r) => {
          release = r;
        });
      });
      await isLocked;
      try {
        const keeper = new StatisticsKeeper(k);
        const vacuuming = keeper.vacuumOnce();
        const waiting = async () =>
          Number(
            (
              await sql<{ n: string }>`select count(*) as n from pg_locks
              where relation = 'auth_failures'::regclass and not granted`.execute(k)
            ).rows[0]?.n,
          );
        for (let i = 0; i < 100 && (await waiting()) === 0; i++) await new Promise((r) => setTimeout(r, 50));
        expect(await waiting()).toBe(1);
        await keeper.stop();
        const outcome = await Promise.race([
          vacuuming,
          new Promise((r) => setTimeout(() => r('still waiting'), 10_000)),
        ]);
        expect(outcome).toEqual([]);
      } finally {
        release();
        await holder;
      }
    }, 60_000);
  },
);

describe('StatisticsKeeper during a database outage', () => {
  it('warns once while every round fails the same way, not every round', async () => {
    const db = openDatabase({
      kind: 'postgres',
      url: 'postgres://postgres@127.0.0.1:1/none',
      connectTimeoutMs: 200,
    });
    const warnings: string[] = [];
    const keeper = new StatisticsKeeper(db.kysely, (m) => warnings.push(m));
    keeper.start(20);
    try {
      await new Promise((r) => setTimeout(r, 400));
    } finally {
      await keeper.stop();
      await db.close();
    }
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^PostgreSQL statistics: /);
  });
});
