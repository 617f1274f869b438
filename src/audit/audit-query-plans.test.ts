import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, Harness } from '../../test/harness.js';
import { sqlitePlansOf } from '../../test/query-plans.js';
import { type AuditQuery, listAudit } from './audit.repository.js';

const ENTRIES = 600;

/** `ENTRIES` audit rows: every tenth a login, actors 1–5 in turn, each entry its own target. */
async function seedEntries(h: Harness): Promise<void> {
  const rows = Array.from({ length: ENTRIES }, (_, i) => ({
    at: 1_700_000_000_000 + i * 1000,
    action: i % 10 === 0 ? 'user.login' : 'record.created',
    outcome: 'success' as const,
    actor_user_id: 1 + (i % 5),
    actor_username: null,
    target_type: 'Contacts',
    target_id: String(i),
    ip: null,
    user_agent: null,
    request_id: null,
    details: '{}',
  }));
  for (let i = 0; i < rows.length; i += 100)
    await h.ctx.db.kysely
      .insertInto('audit_log')
      .values(rows.slice(i, i + 100))
      .execute();
}

/** What the filters of the audit page ask, each with a cursor into the middle of its entries too. */
const FILTERS: Array<[string, Omit<AuditQuery, 'limit'>]> = [
  ['an action', { action: 'record.created' }],
  ['a rare action', { action: 'user.login' }],
  ['an actor', { actorUserId: 3 }],
  ['a target', { targetType: 'Contacts', targetId: '77' }],
  ['an action and an actor', { action: 'record.created', actorUserId: 2 }],
];

/**
 * The audit log's filters read newest first a page at a time; their indexes end in the id (migration 0032), so
 * a page costs the same among 600 entries or millions. SQLite, which Rapport never analyzes, used to read and
 * sort every matching entry for each page (read with EXPLAIN QUERY PLAN). PostgreSQL plans by statistics;
 * there the pages' contents are checked.
 */
describe('audit log pages come from an index in id order, not a sort (SQLite)', () => {
  const h = new Harness('sqlite');
  beforeAll(async () => {
    await h.start();
    await seedEntries(h);
  }, 60_000);
  afterAll(() => h.stop());

  async function planOf(q: AuditQuery): Promise<string> {
    const plans = await sqlitePlansOf(h.ctx.db.kysely, 'audit_log', () => listAudit(h.ctx.db.kysely, q));
    expect(plans).toHaveLength(1);
    return plans[0]!;
  }

  for (const [name, filter] of FILTERS)
    it(`filtered by ${name}, a page and a later page`, async () => {
      for (const before of [undefined, 300]) {
        const plan = await planOf({ ...filter, before, limit: 51 });
        expect(plan).toMatch(/USING (COVERING )?INDEX audit_log_(action|actor|target)_idx/);
        expect(plan).not.toMatch(/TEMP B-TREE/);
      }
    });
});

for (const dialect of DIALECTS)
  describe(`upgrading to the audit indexes in id order (0032) [${dialect}]`, () => {
    const h = new Harness(dialect);
    beforeAll(async () => {
      const { MIGRATIONS } = await import('../db/migrate.js');
      await h.start(
        {},
        { migrations: Object.fromEntries(Object.entries(MIGRATIONS).filter(([n]) => n < '0032')) },
      );
    }, 60_000);
    afterAll(() => h.stop());

    it('keeps every entry, and each filter answers its entries newest first, page after page', async () => {
      await seedEntries(h);
      const db = h.ctx.db.kysely;
      const { MIGRATIONS, migrateToLatest } = await import('../db/migrate.js');
      expect(await migrateToLatest(h.ctx.db, MIGRATIONS)).toEqual(
        Object.keys(MIGRATIONS).filter((name) => name >= '0032'),
      );
      const all = await db.selectFrom('audit_log').selectAll().orderBy('id', 'desc').execute();
      expect(all.length).toBeGreaterThanOrEqual(ENTRIES);
      for (const [, filter] of FILTERS) {
        const expected = all
          .filter(
            (r) =>
              (filter.action === undefined || r.action === filter.action) &&
              (filter.actorUserId === undefined || r.actor_user_id === filter.actorUserId) &&
              (filter.targetType === undefined || r.target_type === filter.targetType) &&
              (filter.targetId === undefined || r.target_id === filter.targetId),
          )
          .map((r) => r.id);
        const got: number[] = [];
        let before: number | undefined;
        for (;;) {
          const page = await listAudit(db, { ...filter, before, limit: 50 });
          got.push(...page.map((r) => r.id));
          if (page.length < 50) break;
          before = page.at(-1)!.id;
        }
        expect(got).toEqual(expected);
      }
      if (dialect === 'sqlite') {
        const columns = await sql<{
          name: string;
        }>`select name from pragma_index_info('audit_log_actor_idx')`.execute(db);
        expect(columns.rows.map((c) => c.name)).toEqual(['actor_user_id', 'id']);
      } else {
        const def = await sql<{ indexdef: string }>`select indexdef from pg_indexes
          where schemaname = current_schema() and indexname = 'audit_log_actor_idx'`.execute(db);
        expect(def.rows[0]?.indexdef).toMatch(/\(actor_user_id, id\)/);
      }
    });
  });
