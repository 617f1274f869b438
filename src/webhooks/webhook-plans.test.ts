import { type Compilable, CompiledQuery, sql } from 'kysely';
import { beforeAll, expect, it } from 'vitest';
import { describeEachDialect, expectStatus, type Harness } from '../../test/harness.js';
import { parseConfig } from '../config.js';
import { deliveriesPage, insertDeliveries, requeueFailedSince } from './webhook.repository.js';
import { claimStatement } from './webhook-outbox.repository.js';
import { newMessageId } from './webhook-signing.js';

/**
 * How a query reads the table aliased `alias`: the index or scan of each access to it, from PostgreSQL's plan
 * (JSON) or SQLite's plan lines, plus any sort.
 */
async function plan(h: Harness, query: Compilable<unknown>, alias: string): Promise<string[]> {
  const q = query.compile();
  const db = h.ctx.db.kysely;
  if (h.dialect === 'sqlite') {
    const { rows } = await db.executeQuery<{ detail: string }>(
      CompiledQuery.raw(`explain query plan ${q.sql}`, [...q.parameters]),
    );
    return rows
      .map((r) => r.detail)
      .filter((d) => `${d} `.includes(` ${alias} `) || d.includes('TEMP B-TREE'));
  }
  const { rows } = await db.executeQuery<{ 'QUERY PLAN': unknown }>(
    CompiledQuery.raw(`explain (format json) ${q.sql}`, [...q.parameters]),
  );
  const found: string[] = [];
  const walk = (node: unknown) => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== 'object') return;
    const n = node as Record<string, unknown>;
    if (n.Alias === alias) found.push(String(n['Index Name'] ?? n['Node Type']));
    if (n['Node Type'] === 'Sort') found.push('Sort');
    for (const v of Object.values(n)) walk(v);
  };
  walk(rows[0]?.['QUERY PLAN']);
  return found;
}

describeEachDialect(
  'webhooks: the plans of the claim and the message list',
  (h) => {
    const webhookIds: number[] = [];
    /** a webhook with one message in 100: its list must not read past the others' */
    let rare = 0;
    beforeAll(async () => {
      for (let i = 0; i < 11; i++) {
        const created = await h.request({
          method: 'POST',
          url: '/api/v1/webhooks',
          as: h.admin,
          payload: { url: `http://127.0.0.1:9/hook${i}` },
        });
        expectStatus(created, 201);
        webhookIds.push((created.json() as { id: number }).id);
      }
      rare = webhookIds.pop()!;
      const db = h.ctx.db.kysely;
      const now = h.clock.now();
      // deliveries `i` go to webhook i % 10 (the bench's 10 webhooks), every 100th to the rare one
      const queue = (n: number, record: (i: number) => number) =>
        insertDeliveries(
          db,
          Array.from({ length: n }, (_, i) => ({
            webhook_id: n > 1000 && i % 100 === 99 ? rare : webhookIds[i % 10]!,
            msg_id: newMessageId(),
            event_type: 'contacts.updated',
            record_id: record(i),
            payload: '{}',
            status: 'pending' as const,
            next_attempt_at: now,
            created_at: now,
          })),
        );
      // the statistics are taken with nothing pending, as PostgreSQL's usually are: the table keeps every
      // finished delivery and is analyzed when its changes reach its size (migration 0030)
      await queue(5000, (i) => Math.floor(i / 10));
      await db
        .updateTable('webhook_deliveries')
        .set({ status: 'delivered', finished_at: now })
        .where('status', '=', 'pending')
        .execute();
      if (h.dialect === 'postgres') await sql`analyze webhook_deliveries`.execute(db);
      await queue(300, (i) => Math.floor(i / 10) % 30);
    }, 60_000);

    // The claim's check "no earlier pending delivery of this webhook and record" must go through the pending
    // order index whatever the statistics say: with the due index open to it, PostgreSQL walked that index's
    // every entry below the row (migration 0033)
    it('checks for earlier pending deliveries through the order index', async () => {
      const now = h.clock.now();
      const claim = claimStatement(h.ctx.db.kysely, now, now + 60_000, 128);
      expect(await plan(h, claim, 'e')).toEqual([
        expect.stringMatching(/webhook_deliveries_pending_order_idx/),
      ]);
      // and the claim takes the oldest pending delivery of each webhook and record
      const { rows } = await h.ctx.db.kysely.executeQuery<{ webhook_id: number; record_id: number }>(
        claim.compile(),
      );
      expect(rows).toHaveLength(128);
      expect(new Set(rows.map((r) => `${r.webhook_id}:${r.record_id}`)).size).toBe(128);
    });

    // A page of a webhook's messages reads that webhook's newest rows in id order, not all of its messages
    // sorted (SQLite) nor every webhook's past the primary key (PostgreSQL) (migration 0034)
    it("reads a page of a webhook's messages through (webhook_id, id), without a sort", async () => {
      const db = h.ctx.db.kysely;
      for (const q of [
        { webhookId: rare, limit: 20 },
        { webhookId: rare, limit: 20, before: 3000 },
        { webhookId: rare, limit: 20, status: 'delivered' as const },
      ]) {
        const shown = await plan(h, deliveriesPage(db, q), 'webhook_deliveries');
        expect(shown, JSON.stringify(q)).toEqual([expect.stringMatching(/webhook_deliveries_webhook_idx/)]);
      }
      // a webhook with every tenth message: PostgreSQL may walk the primary key back instead, but no plan sorts
      const common = await plan(
        h,
        deliveriesPage(db, { webhookId: webhookIds[0]!, limit: 20 }),
        'webhook_deliveries',
      );
      expect(common).toHaveLength(1);
      expect(common[0]).toMatch(/webhook_deliveries_(webhook_idx|pkey)/);
      const page = await deliveriesPage(db, { webhookId: rare, limit: 20 }).execute();
      expect(page).toHaveLength(20);
      expect(page.every((d) => d.webhook_id === rare)).toBe(true);
      expect(page.map((d) => d.id)).toEqual([...page.map((d) => d.id)].sort((a, b) => b - a));
    });

    // "Recover every failed message since" and a page of failed or cancelled messages read those rows through
    // their own index, not every message of the webhook: on SQLite that read blocks every other request
    // (migration 0035)
    it("reads a webhook's failed and cancelled messages through their own index", async () => {
      const db = h.ctx.db.kysely;
      const hook = webhookIds[1]!;
      const ids = (
        await db
          .selectFrom('webhook_deliveries')
          .select('id')
          .where('webhook_id', '=', hook)
          .where('status', '=', 'delivered')
          .orderBy('id')
          .limit(3)
          .execute()
      ).map((r) => r.id);
      await db
        .updateTable('webhook_deliveries')
        .set({ status: 'failed' })
        .where('id', 'in', ids.slice(0, 2))
        .execute();
      await db
        .updateTable('webhook_deliveries')
        .set({ status: 'cancelled' })
        .where('id', '=', ids[2]!)
        .execute();
      const now = h.clock.now();
      const byFailedIndex = [expect.stringMatching(/webhook_deliveries_failed_idx/)];
      for (const status of ['failed', 'cancelled'] as const) {
        const page = deliveriesPage(db, { webhookId: hook, limit: 20, status });
        expect(await plan(h, page, 'webhook_deliveries'), status).toEqual(byFailedIndex);
      }
      // PostgreSQL's plan of an update names the table on its ModifyTable node too
      const recover = requeueFailedSince(db, hook, now - 3_600_000, now);
      expect((await plan(h, recover, 'webhook_deliveries')).filter((p) => p !== 'ModifyTable')).toEqual(
        byFailedIndex,
      );
      // and they find what they should: the failed ones newest first, all three made pending again
      const failed = await deliveriesPage(db, { webhookId: hook, limit: 20, status: 'failed' }).execute();
      expect(failed.map((d) => d.id)).toEqual([ids[1], ids[0]]);
      expect(Number((await recover.executeTakeFirst()).numUpdatedRows)).toBe(3);
      expect(await deliveriesPage(db, { webhookId: hook, limit: 20, status: 'cancelled' }).execute()).toEqual(
        [],
      );
      await db
        .updateTable('webhook_deliveries')
        .set({ status: 'delivered' })
        .where('id', 'in', ids)
        .execute();
    });
  },
  { webhooks: { ...parseConfig({}).webhooks, allowedHosts: ['127.0.0.1/32'], sender: false } },
);
