import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDialect, expectStatus } from '../../test/harness.js';
import { WebhookReceiver } from '../../test/webhook-receiver.js';
import { parseConfig } from '../config.js';
import { insertDeliveries } from './webhook.repository.js';
import { WebhookHttp } from './webhook-http.js';
import { createWebhookSender, type WebhookSender } from './webhook-sender.js';
import { newMessageId } from './webhook-signing.js';

const RECORDS = 50;

describeEachDialect(
  'webhooks: two senders on one database',
  (h) => {
    const rx = new WebhookReceiver();
    const senders: WebhookSender[] = [];
    beforeAll(() => rx.start());
    afterAll(async () => {
      for (const s of senders) await s.stop();
      await rx.stop();
    });

    // two senders in one process; test/webhook-process.test.ts runs two processes with 5,000 events
    const EVENTS = h.dialect === 'postgres' ? 1000 : 300;
    it('deliver every message once, in order per record', async () => {
      const created = await h.request({
        method: 'POST',
        url: '/api/v1/webhooks',
        as: h.admin,
        payload: { url: `${rx.url}/bulk`, module: 'Contacts' },
      });
      expectStatus(created, 201);
      const { id: webhookId, secret } = created.json() as { id: number; secret: string };
      // real contacts, so the ordering rule has records to order by
      const recordIds: number[] = [];
      for (let i = 0; i < RECORDS; i++) {
        const res = await h.request({
          method: 'POST',
          url: '/api/v1/records/Contacts',
          as: h.admin,
          payload: { lastname: `Bulk ${i}` },
        });
        expectStatus(res, 201);
        recordIds.push(res.json().id);
      }
      await h.ctx.webhookSender.drain();
      rx.clear();
      const now = h.clock.now();
      await insertDeliveries(
        h.ctx.db.kysely,
        Array.from({ length: EVENTS }, (_, i) => ({
          webhook_id: webhookId,
          msg_id: newMessageId(),
          event_type: 'contacts.updated',
          record_id: recordIds[i % RECORDS]!,
          payload: JSON.stringify({
            type: 'contacts.updated',
            data: { record: recordIds[i % RECORDS], seq: i },
          }),
          status: 'pending' as const,
          next_attempt_at: now,
          created_at: now,
        })),
      );
      for (let i = 0; i < 2; i++)
        senders.push(
          createWebhookSender({
            db: h.ctx.db,
            clock: h.clock,
            logger: h.ctx.logger,
            secrets: h.ctx.secrets,
            http: new WebhookHttp(h.ctx.webhookPolicy, 5000),
            timeoutMs: 5000,
            mailFrom: 'rapport@localhost',
            mailKick: () => {},
          }),
        );
      const started = performance.now();
      const attempts = await Promise.all(senders.map((s) => s.drain()));
      // a drain ends when its sender finds nothing to claim; the other's last deliveries may free more
      for (let i = 0; i < 50 && rx.received.length < EVENTS; i++)
        await Promise.all(senders.map((s) => s.drain()));
      const seconds = (performance.now() - started) / 1000;
      console.info(
        `[webhooks ${h.dialect}] ${EVENTS} deliveries by 2 senders in ${seconds.toFixed(2)} s ` +
          `(${Math.round(EVENTS / seconds)}/s); split ${attempts.join(' + ')}`,
      );
      expect(rx.received).toHaveLength(EVENTS);
      const ids = rx.received.map((r) => r.headers['webhook-id']);
      expect(new Set(ids).size).toBe(EVENTS);
      // per record, messages arrive in the order they were written
      const lastSeq = new Map<number, number>();
      const wh = new Webhook(secret);
      for (const r of rx.received) {
        const body = wh.verify(r.body, r.headers) as { data: { record: number; seq: number } };
        const prev = lastSeq.get(body.data.record) ?? -1;
        expect(body.data.seq).toBeGreaterThan(prev);
        lastSeq.set(body.data.record, body.data.seq);
      }
      const left = await h.ctx.db.kysely
        .selectFrom('webhook_deliveries')
        .select('status')
        .where('webhook_id', '=', webhookId)
        .where('status', '!=', 'delivered')
        .execute();
      expect(left).toEqual([]);
    }, 120_000);
  },
  {
    webhooks: { ...parseConfig({}).webhooks, allowedHosts: ['127.0.0.1/32'], sender: false },
  },
);
