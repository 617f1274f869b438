import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  describeEachDialect,
  errorCode,
  expectStatus,
  type Harness,
  type Session,
} from '../../test/harness.js';
import { WebhookReceiver } from '../../test/webhook-receiver.js';
import { parseConfig } from '../config.js';

const webhookConfig = {
  webhooks: {
    ...parseConfig({}).webhooks,
    allowedHosts: ['127.0.0.1/32', '::1', 'localhost'],
    timeoutMs: 2000,
  },
};

async function createHook(h: Harness, as: Session, payload: Record<string, unknown>) {
  const res = await h.request({ method: 'POST', url: '/api/v1/webhooks', as, payload });
  expectStatus(res, 201);
  return res.json() as { id: number; secret: string; url: string; status: string };
}

async function contact(h: Harness, as: Session, fields: Record<string, unknown>) {
  const res = await h.request({ method: 'POST', url: '/api/v1/records/Contacts', as, payload: fields });
  expectStatus(res, 201);
  return res.json() as { id: number; version: number };
}

describeEachDialect(
  'webhooks: delivery',
  (h) => {
    const rx = new WebhookReceiver();
    beforeAll(() => rx.start());
    afterAll(() => rx.stop());
    beforeEach(async () => {
      rx.clear();
      rx.respond = (_r, res) => res.writeHead(200).end('ok');
      await h.ctx.db.kysely.updateTable('webhooks').set({ enabled: 0 }).execute();
    });

    it('signs each record change with Standard Webhooks, verified by the standardwebhooks library', async () => {
      const hook = await createHook(h, h.admin, {
        url: `${rx.url}/hooks`,
        module: 'Contacts',
        operations: ['created', 'updated', 'deleted'],
      });
      expect(hook.secret).toMatch(/^whsec_/);
      const c = await contact(h, h.admin, { lastname: 'Lovelace', email: 'ada@example.com' });
      await rx.waitFor(1);
      const got = rx.received[0]!;
      const wh = new Webhook(hook.secret);
      const verified = wh.verify(got.body, got.headers) as { type: string; data: Record<string, unknown> };
      expect(verified.type).toBe('contacts.created');
      expect(verified.data).toMatchObject({ module: 'Contacts', id: c.id, operation: 'created' });
      expect((verified.data.record as Record<string, unknown>).lastname).toBe('Lovelace');
      expect(verified.data.changes).toMatchObject({ lastname: [null, 'Lovelace'] });
      expect(got.headers['webhook-id']).toMatch(/^msg_/);
      // a tampered body fails verification
      expect(() => wh.verify(`${got.body} `, got.headers)).toThrow();

      const patched = await h.request({
        method: 'PATCH',
        url: `/api/v1/records/Contacts/${c.id}`,
        as: h.admin,
        payload: { email: 'ada@lovelace.example', version: c.version },
      });
      expectStatus(patched, 200);
      await rx.waitFor(2);
      expect(rx.json(1).type).toBe('contacts.updated');
      expect(rx.json(1).data.changes).toEqual({ email: ['ada@example.com', 'ada@lovelace.example'] });
    });
  },
  webhookConfig,
);
