import { CompiledQuery, sql } from 'kysely';
import { expect, it } from 'vitest';
import { describeEachDialect, expectStatus } from '../../test/harness.js';
import { parseConfig } from '../config.js';
import { insertDeliveries } from './webhook.repository.js';
import { claimStatement } from './webhook-outbox.repository.js';
import { newMessageId } from './webhook-signing.js';

/** Every index a plan reads table alias `alias` through: PostgreSQL's JSON plan, or SQLite's plan lines. */
function indexesOf(plan: unknown, alias: string): string[] {
  const found: string[] = [];
  const walk = (node: unknown) => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== 'object') return;
    const n = node as Record<string, unknown>;
    if (n.Alias === alias && typeof n['Index Name'] === 'string') found.push(n['Index Name']);
    if (n.Alias === alias && n['Node Type'] === 'Seq Scan') found.push('(seq scan)');
    for (const v of Object.values(n)) walk(v);
  };
  walk(plan);
  return found;
}

describeEachDialect(
  'webhooks: the claim plan',
  (h) => {
    // The claim's check "no earlier pending delivery of this webhook and record" must go through the pending
    // order index, whatever the statistics say. PostgreSQL's statistics are typically taken while nothing is
    // pending (the table keeps every finished delivery and is analyzed when its changes reach its size); with
    // the due index open to it, the check walked that index's every entry below the row (migration 0033)
    it('checks for earlier pending deliveries through the order index, on statistics taken with none pending', async () => {
      const webhookIds: number[] = [];
      for (let i = 0; i < 10; i++) {
        const created = await h.request({
          method: 'POST',
          url: '/api/v1/webhooks',
          as: h.admin,
          payload: { url: `http://127.0.0.1:9/hook${i}` },
        });
        expectStatus(created, 201);
        webhookIds.push((created.json() as { id: number }).id);
      }
      const db = h.ctx.db.kysely;
      const now = h.clock.now();
      // deliveries `i` go to webhook i % 10 (the bench's 10 webhooks)
      const queue = (n: number, record: (i: number) => number) =>
        insertDeliveries(
          db,
          Array.from({ length: n }, (_, i) => ({
            webhook_id: webhookIds[i % 10]!,
            msg_id: newMessageId(),
            event_type: 'contacts.updated',
            record_id: record(i),
            payload: '{}',
            status: 'pending' as const,
            next_attempt_at: now,
            created_at: now,
          })),
        );
      await queue(5000, (i) => Math.floor(i / 10));
      await db
        .updateTable('webhook_deliveries')
        .set({ status: 'delivered', finished_at: now })
        .where('status', '=', 'pending')
        .execute();
      if (h.dialect === 'postgres') await sql`analyze webhook_deliveries`.execute(db);
      await queue(300, (i) => Math.floor(i / 10) % 30);

      const claim = claimStatement(db, now, now + 60_000, 128).compile();
      if (h.dialect === 'postgres') {
        const { rows } = await db.executeQuery<{ 'QUERY PLAN': unknown }>(
          CompiledQuery.raw(`explain (format json) ${claim.sql}`, [...claim.parameters]),
        );
        expect(indexesOf(rows[0]?.['QUERY PLAN'], 'e')).toEqual(['webhook_deliveries_pending_order_idx']);
      } else {
        const { rows } = await db.executeQuery<{ detail: string }>(
          CompiledQuery.raw(`explain query plan ${claim.sql}`, [...claim.parameters]),
        );
        const onE = rows.map((r) => r.detail).filter((d) => / e /.test(`${d} `));
        expect(onE).toEqual([expect.stringContaining('webhook_deliveries_pending_order_idx')]);
      }

      // and the claim takes the oldest pending delivery of each webhook and record
      const { rows: claimed } = await db.executeQuery<{ webhook_id: number; record_id: number }>(claim);
      expect(claimed).toHaveLength(128);
      expect(new Set(claimed.map((r) => `${r.webhook_id}:${r.record_id}`)).size).toBe(128);
    });
  },
  { webhooks: { ...parseConfig({}).webhooks, allowedHosts: ['127.0.0.1/32'], sender: false } },
);
