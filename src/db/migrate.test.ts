import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, Harness, PG_URL } from '../../test/harness.js';
import { openDatabase } from './database.js';
import { MIGRATIONS, migrateToLatest, pendingMigrations } from './migrate.js';

/**
 * Kysely's own introspector lists the tables of every schema on the server before it migrates, with a function
 * call per column that names the table (`pg_get_serial_sequence`): a schema or table another client dropped or
 * altered while that listing ran failed it (invalid_schema_name, undefined_table, undefined_column). Parallel
 * test files do this, and CI failed once that way. The dialect now lists only the connection's own schema.
 */
describe.runIf(DIALECTS.includes('postgres'))('migrations while other schemas come and go', () => {
  const churner = new pg.Client({ connectionString: PG_URL });
  const prefix = `t_churn_${randomBytes(3).toString('hex')}`;
  const made: string[] = [];
  let stop = false;
  let churning: Promise<number> = Promise.resolve(0);

  beforeAll(async () => {
    await churner.connect();
    churning = (async () => {
      let rounds = 0;
      while (!stop) {
        const schema = `${prefix}_${rounds % 4}`;
        await churner.query(`drop schema if exists ${schema} cascade`);
        await churner.query(`create schema ${schema}`);
        const tables = Array.from(
          { length: 12 },
          (_, i) => `create table ${schema}.t${i} (id serial primary key, a text, b text, c text)`,
        );
        await churner.query(tables.join('; '));
        rounds++;
      }
      return rounds;
    })();
  });

  afterAll(async () => {
    stop = true;
    await churning.catch(() => {});
    for (let i = 0; i < 4; i++) await churner.query(`drop schema if exists ${prefix}_${i} cascade`);
    for (const schema of made) await churner.query(`drop schema if exists ${schema} cascade`);
    await churner.end();
  });

  it('every migration applies, and only once, however often the listing meets a dropped table', async () => {
    for (let i = 0; i < 6; i++) {
      const schema = `t_mig_${randomBytes(5).toString('hex')}`;
      made.push(schema);
      await churner.query(`create schema ${schema}`);
      const db = openDatabase({ kind: 'postgres', url: PG_URL, schema, poolSize: 2 });
      try {
        expect(await migrateToLatest(db)).toEqual(Object.keys(MIGRATIONS));
        expect(await pendingMigrations(db)).toEqual([]);
        expect(await migrateToLatest(db)).toEqual([]);
      } finally {
        await db.close();
      }
    }
    stop = true;
    expect(await churning).toBeGreaterThan(0);
  }, 120_000);
});

/**
 * A start on a current database reads the applied names once and leaves the migrator alone; anything else
 * still goes through the migrator: a migration to apply, and one applied that this build does not know.
 */
for (const dialect of DIALECTS) {
  describe(`migrating a database that is already current [${dialect}]`, () => {
    const h = new Harness(dialect);
    beforeAll(() => h.start(), 60_000);
    afterAll(() => h.stop());

    it('applies nothing, applies one more when the build adds it, and refuses one it does not know', async () => {
      const db = h.ctx.db;
      expect(await migrateToLatest(db)).toEqual([]);
      const added = {
        ...MIGRATIONS,
        '9998-test-extra': {
          up: async (k: import('kysely').Kysely<unknown>) => {
            await sql`create table test_extra (id integer primary key)`.execute(k);
          },
        },
      };
      expect(await migrateToLatest(db, added)).toEqual(['9998-test-extra']);
      expect(await migrateToLatest(db, added)).toEqual([]);
      // the database is now ahead of the build that knows only MIGRATIONS: the migrator refuses it
      await expect(migrateToLatest(db)).rejects.toThrow(/9998-test-extra/);
    });
  });
}
