import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { describeEachDialect } from '../../test/harness.js';
import { trimChallengeTokens } from '../webservices/ws-session.repository.js';
import { loadModuleMeta } from './module-meta.js';
import { selectRecords } from './record.repository.js';

/**
 * The statements run most often carry no bound LIMIT or OFFSET (see `LiteralLimits`): with one, PostgreSQL
 * plans a named statement for its values on every run, which cost a web-service query four times the
 * backend's CPU of the query itself (stop 63, `docs/performance.md`).
 */
describeEachDialect('statements planned once', (h) => {
  it("leaves no bound LIMIT or OFFSET in a record page's statement or the challenge trim (PostgreSQL plans those on every run)", async () => {
    const meta = await loadModuleMeta(h.ctx.db.kysely, 'Contacts');
    await h.ctx.db.kysely.transaction().execute(async (trx) => {
      // one connection: the statements it ran are in its pg_prepared_statements, with their plan counts
      for (let i = 0; i < 8; i++) {
        await selectRecords(trx, meta, [], { order: [{ expr: sql.ref('e.id'), desc: false }], limit: 10 });
        await trx.executeQuery(trimChallengeTokens(trx, 1, 0, 200, '192.0.2.1', 50).compile());
      }
      const trim = trimChallengeTokens(trx, 1, 0, 200, '192.0.2.1', 50).compile().sql;
      expect(trim).not.toMatch(/(limit|offset) (\?|\$\d+)/);
      expect(trim).toMatch(/ limit 1000 offset 200[ )]/);
      if (h.dialect !== 'postgres') return;
      const { rows } = await sql<{ statement: string; generic_plans: string }>`
        select statement, generic_plans from pg_prepared_statements`.execute(trx);
      const ran = (match: (s: string) => boolean) => {
        const found = rows.filter((r) => match(r.statement));
        expect(found).toHaveLength(1);
        return found[0]!;
      };
      const pageRow = ran((s) => s.includes('"crm_contacts"') && s.includes('order by "e"."id" asc limit'));
      expect(pageRow.statement).toMatch(/ limit 10$/);
      // five custom plans, then the generic one (a bound LIMIT keeps it at 0 on a table of a few thousand rows)
      expect(Number(pageRow.generic_plans)).toBeGreaterThan(0);
      expect(
        Number(ran((s) => s.startsWith('delete from "ws_challenge_tokens"')).generic_plans),
      ).toBeGreaterThan(0);
    });
  });
});
