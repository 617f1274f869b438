import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import {
  ADMIN_PASSWORD,
  describeEachDialect,
  expectStatus,
  type Harness,
  type RequestOptions,
} from '../../test/harness.js';
import { addRule, emlWith, postMessage } from '../../test/mailroom-kit.js';
import { WebhookReceiver } from '../../test/webhook-receiver.js';
import { RealKeys, WsKit } from '../../test/ws-kit.js';
import { parseConfig } from '../config.js';

const webhookConfig = {
  webhooks: {
    ...parseConfig({}).webhooks,
    allowedHosts: ['127.0.0.1/32', '::1', 'localhost'],
    timeoutMs: 2000,
  },
};

type Api = (opts: RequestOptions) => ReturnType<Harness['request']>;

/** Requests with an access key: the tests move the clock by days, past any session's expiry. */
function keyApi(h: Harness, key: () => string): Api {
  return (opts) =>
    h.request({ ...opts, as: null, headers: { ...opts.headers, authorization: `Bearer ${key()}` } });
}

async function createHook(api: Api, payload: Record<string, unknown>) {
  const res = await api({ method: 'POST', url: '/api/v1/webhooks', payload });
  expectStatus(res, 201);
  return res.json() as { id: number; secret: string; url: string; status: string };
}

async function contact(api: Api, fields: Record<string, unknown>) {
  const res = await api({ method: 'POST', url: '/api/v1/records/Contacts', payload: fields });
  expectStatus(res, 201);
  return res.json() as { id: number; version: number };
}

describeEachDialect(
  'webhooks: delivery',
  (h) => {
    const rx = new WebhookReceiver();
    let adminKey = '';
    const api = keyApi(h, () => adminKey);
    beforeAll(async () => {
      await rx.start();
      adminKey = await h.accessKey(h.admin);
    });
    afterAll(() => rx.stop());
    beforeEach(async () => {
      // earlier tests' webhooks go off, and whatever they still had in flight settles before the next test
      await h.ctx.db.kysely.updateTable('webhooks').set({ enabled: 0 }).execute();
      await h.ctx.webhookSender.drain();
      rx.clear();
      rx.respond = (_r, res) => res.writeHead(200).end('ok');
    });

    it('signs each record change with Standard Webhooks, verified by the standardwebhooks library', async () => {
      const hook = await createHook(api, {
        url: `${rx.url}/hooks`,
        module: 'Contacts',
        operations: ['created', 'updated', 'deleted'],
      });
      expect(hook.secret).toMatch(/^whsec_/);
      const c = await contact(api, { lastname: 'Lovelace', email: 'ada@example.com' });
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

      const patched = await api({
        method: 'PATCH',
        url: `/api/v1/records/Contacts/${c.id}`,
        payload: { email: 'ada@lovelace.example', version: c.version },
      });
      expectStatus(patched, 200);
      await rx.waitFor(2);
      expect(rx.json(1).type).toBe('contacts.updated');
      expect(rx.json(1).data.changes).toEqual({ email: ['ada@example.com', 'ada@lovelace.example'] });
    });

    async function deliveries(hookId: number) {
      return h.ctx.db.kysely
        .selectFrom('webhook_deliveries')
        .selectAll()
        .where('webhook_id', '=', hookId)
        .orderBy('id')
        .execute();
    }

    it('retries on the Svix schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h) with jitter, then gives up', async () => {
      rx.respond = (_r, res) => res.writeHead(500).end('boom');
      const hook = await createHook(api, { url: rx.url, module: 'Contacts', operations: ['created'] });
      await contact(api, { lastname: 'Retry' });
      await rx.waitFor(1);
      await h.ctx.webhookSender.drain();
      const schedule = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];
      for (const [i, base] of schedule.entries()) {
        const [d] = await deliveries(hook.id);
        expect(d!.status).toBe('pending');
        expect(d!.attempts).toBe(i + 1);
        const wait = d!.next_attempt_at - h.clock.now();
        expect(wait).toBeGreaterThanOrEqual(base * 0.8 - 1);
        expect(wait).toBeLessThanOrEqual(base * 1.2 + 1);
        // not due yet: nothing is sent
        h.clock.advance(Math.floor(wait / 2));
        await h.ctx.webhookSender.drain();
        expect(rx.received.length).toBe(i + 1);
        h.clock.advance(wait - Math.floor(wait / 2));
        await h.ctx.webhookSender.drain();
        expect(rx.received.length).toBe(i + 2);
      }
      const [d] = await deliveries(hook.id);
      expect(d).toMatchObject({ status: 'failed', attempts: 8, last_status_code: 500 });
      // every attempt carries the same webhook-id
      expect(new Set(rx.received.map((r) => r.headers['webhook-id'])).size).toBe(1);
      const attempts = await api({
        method: 'GET',
        url: `/api/v1/webhooks/${hook.id}/deliveries/${d!.id}`,
      });
      expectStatus(attempts, 200);
      expect(attempts.json().attemptLog).toHaveLength(8);
      expect(attempts.json().attemptLog[0]).toMatchObject({ statusCode: 500, responseBody: 'boom' });
    });

    it('switches a webhook off on 410 Gone, and after 5 days of failures (emailing the owner)', async () => {
      rx.respond = (_r, res) => res.writeHead(410).end();
      const gone = await createHook(api, { url: rx.url, module: 'Contacts', operations: ['created'] });
      await contact(api, { lastname: 'Gone' });
      await rx.waitFor(1);
      await h.ctx.webhookSender.drain();
      const read = await api({ method: 'GET', url: `/api/v1/webhooks/${gone.id}` });
      expect(read.json()).toMatchObject({ enabled: false, status: 'Inactive' });
      expect(read.json().disabledReason).toMatch(/410/);
      // off at once: the next change queues nothing for it (the cached webhooks that may send are dropped)
      await contact(api, { lastname: 'After gone' });
      await h.ctx.webhookSender.drain();
      expect(await deliveries(gone.id)).toHaveLength(1);
      await api({
        method: 'PATCH',
        url: `/api/v1/webhooks/${gone.id}`,
        payload: { enabled: false },
      });

      rx.clear();
      rx.respond = (_r, res) => res.writeHead(503).end();
      const failing = await createHook(api, {
        url: rx.url,
        module: 'Contacts',
        operations: ['created'],
      });
      for (let day = 0; day <= 5; day++) {
        await contact(api, { lastname: `Day ${day}` });
        await h.ctx.webhookSender.drain();
        h.clock.advance(24 * 3_600_000);
      }
      const after = await api({ method: 'GET', url: `/api/v1/webhooks/${failing.id}` });
      expect(after.json()).toMatchObject({ enabled: false });
      expect(after.json().disabledReason).toMatch(/5 days/);
      const mail = await h.ctx.db.kysely
        .selectFrom('mail_queue')
        .select(['subject', 'text_body'])
        .where('subject', 'like', '%switched off%')
        .execute();
      expect(mail.length).toBeGreaterThanOrEqual(2);
      const audit = await h.ctx.db.kysely
        .selectFrom('audit_log')
        .select('action')
        .where('action', '=', 'webhook.disabled')
        .where('target_id', '=', String(failing.id))
        .execute();
      expect(audit).toHaveLength(1);
    });

    it('honours Retry-After on 429, and counts a redirect as a failure without following it', async () => {
      let n = 0;
      rx.respond = (_r, res) => {
        n++;
        if (n === 1) res.writeHead(429, { 'retry-after': '120' }).end();
        else if (n === 2) res.writeHead(302, { location: `${rx.url}/elsewhere` }).end();
        else res.writeHead(204).end();
      };
      const hook = await createHook(api, { url: rx.url, module: 'Contacts', operations: ['created'] });
      await contact(api, { lastname: 'Slow down' });
      await rx.waitFor(1);
      await h.ctx.webhookSender.drain();
      let [d] = await deliveries(hook.id);
      expect(d!.next_attempt_at - h.clock.now()).toBe(120_000);
      h.clock.advance(120_000);
      await h.ctx.webhookSender.drain();
      [d] = await deliveries(hook.id);
      expect(d).toMatchObject({ status: 'pending', last_status_code: 302 });
      expect(d!.last_error).toMatch(/redirect/);
      expect(rx.received.map((r) => r.path)).toEqual(['/', '/']);
      h.clock.advance(10 * 60_000);
      await h.ctx.webhookSender.drain();
      [d] = await deliveries(hook.id);
      expect(d).toMatchObject({ status: 'delivered', attempts: 3, last_status_code: 204 });
    });

    it('delivers the changes of one record in commit order, even across retries', async () => {
      let fail = true;
      rx.respond = (_r, res) => res.writeHead(fail ? 500 : 200).end();
      const hook = await createHook(api, { url: rx.url, module: 'Contacts' });
      const c = await contact(api, { lastname: 'Order' });
      await rx.waitFor(1);
      let version = c.version;
      for (const title of ['one', 'two', 'three']) {
        const res = await api({
          method: 'PATCH',
          url: `/api/v1/records/Contacts/${c.id}`,
          payload: { title, version },
        });
        expectStatus(res, 200);
        version = res.json().version;
      }
      await h.ctx.webhookSender.drain();
      // the create is waiting for its retry: the updates wait behind it
      expect(rx.received).toHaveLength(1);
      fail = false;
      h.clock.advance(10_000);
      await h.ctx.webhookSender.drain();
      const types = rx.received.map(
        (r) => JSON.parse(r.body) as { type: string; data: { changes: { title?: unknown[] } } },
      );
      expect(types.map((t) => t.type)).toEqual([
        'contacts.created',
        'contacts.created',
        'contacts.updated',
        'contacts.updated',
        'contacts.updated',
      ]);
      expect(types.slice(2).map((t) => t.data.changes.title?.[1])).toEqual(['one', 'two', 'three']);
      expect((await deliveries(hook.id)).every((d) => d.status === 'delivered')).toBe(true);
    });

    it('signs with the old and the new secret for 24 h after a rotation', async () => {
      const hook = await createHook(api, { url: rx.url, module: 'Contacts', operations: ['created'] });
      const rotated = await api({
        method: 'POST',
        url: `/api/v1/webhooks/${hook.id}/rotate-secret`,
      });
      expectStatus(rotated, 200);
      const fresh = rotated.json().secret as string;
      expect(fresh).not.toBe(hook.secret);
      await contact(api, { lastname: 'Rotation' });
      await rx.waitFor(1);
      const got = rx.received[0]!;
      expect(got.headers['webhook-signature']!.split(' ')).toHaveLength(2);
      expect(() => new Webhook(hook.secret).verify(got.body, got.headers)).not.toThrow();
      expect(() => new Webhook(fresh).verify(got.body, got.headers)).not.toThrow();
      h.clock.advance(24 * 3_600_000 + 1);
      await contact(api, { lastname: 'Rotation over' });
      await rx.waitFor(2);
      const later = rx.received[1]!;
      expect(later.headers['webhook-signature']!.split(' ')).toHaveLength(1);
      expect(() => new Webhook(fresh).verify(later.body, later.headers)).not.toThrow();
      expect(() => new Webhook(hook.secret).verify(later.body, later.headers)).toThrow();
    });

    it('changes made through /webservice.php and the mailroom are delivered like any other', async () => {
      const hook = await createHook(api, {
        url: `${rx.url}/channels`,
        module: 'Leads',
        operations: ['created', 'updated'],
      });
      // earlier tests moved the clock by days: the admin's session is long gone
      h.admin = await h.login('admin', ADMIN_PASSWORD);
      const ws = new WsKit(h, (hh) => new RealKeys(hh));
      await ws.start();
      const sessionName = await ws.login('admin', h.admin.userId);
      const created = await ws.post({
        operation: 'create',
        sessionName,
        elementType: 'Leads',
        element: JSON.stringify({
          lastname: 'Webservice',
          company: 'WS Ltd',
          assigned_user_id: `19x${h.admin.userId}`,
        }),
      });
      expect(created.json.success, created.body).toBe(true);
      const wsId = Number(String(created.json.result.id).split('x')[1]);
      await rx.waitFor(1);
      await addRule(h, {
        name: 'Web leads to webhooks',
        conditions: [{ field: 'from', op: 'contains', value: 'acme-web.example' }],
        action: 'create',
        module: 'Leads',
        autofill: { delimiter: ':', mappings: [{ label: 'last name', field: 'lastname' }] },
      });
      const mailed = await postMessage(
        h,
        emlWith('web-form.eml', { 'Message-ID': '<hooked-1@acme-web.example>' }),
      );
      expect(mailed).toMatchObject({ status: 'processed' });
      await rx.waitFor(2);
      const wh = new Webhook(hook.secret);
      const bodies = rx.received.map(
        (r) =>
          wh.verify(r.body, r.headers) as {
            type: string;
            data: { id: number; record: Record<string, unknown> };
          },
      );
      expect(bodies.map((b) => [b.type, b.data.id])).toEqual([
        ['leads.created', wsId],
        ['leads.created', mailed.recordId],
      ]);
      expect(bodies[0]!.data.record.lastname).toBe('Webservice');
      expect(bodies[1]!.data.record.lastname).toBe('Doe');
    });

    it('sends a test event, and resends a message and recovers failed ones with the same webhook-id', async () => {
      rx.respond = (_r, res) => res.writeHead(500).end();
      const hook = await createHook(api, { url: rx.url, module: 'Contacts', operations: ['created'] });
      const test = await api({ method: 'POST', url: `/api/v1/webhooks/${hook.id}/test` });
      expectStatus(test, 202);
      await rx.waitFor(1);
      expect(rx.json(0).type).toBe('webhook.test');
      expect(() =>
        new Webhook(hook.secret).verify(rx.received[0]!.body, rx.received[0]!.headers),
      ).not.toThrow();
      await h.ctx.webhookSender.drain();
      const since = new Date(h.clock.now()).toISOString();
      // exhaust the test message's attempts
      await h.ctx.db.kysely
        .updateTable('webhook_deliveries')
        .set({ attempts: 8, next_attempt_at: h.clock.now() })
        .where('webhook_id', '=', hook.id)
        .execute();
      h.clock.advance(10_000);
      await h.ctx.webhookSender.drain();
      let [d] = await deliveries(hook.id);
      expect(d!.status).toBe('failed');
      rx.respond = (_r, res) => res.writeHead(200).end();
      const resent = await api({
        method: 'POST',
        url: `/api/v1/webhooks/${hook.id}/deliveries/${d!.id}/redeliver`,
      });
      expectStatus(resent, 202);
      await h.ctx.webhookSender.drain();
      [d] = await deliveries(hook.id);
      expect(d!.status).toBe('delivered');
      const ids = new Set(rx.received.map((r) => r.headers['webhook-id']));
      expect(ids.size).toBe(1);
      // a delivered message can be resent too; a pending one cannot (409)
      await h.ctx.db.kysely
        .updateTable('webhook_deliveries')
        .set({ status: 'failed' })
        .where('id', '=', d!.id)
        .execute();
      const recovered = await api({
        method: 'POST',
        url: `/api/v1/webhooks/${hook.id}/recover`,
        payload: { since },
      });
      expectStatus(recovered, 202);
      expect(recovered.json().messages).toBe(1);
      const list = await api({
        method: 'GET',
        url: `/api/v1/webhooks/${hook.id}/deliveries`,
      });
      expectStatus(list, 200);
      expect(list.json().items[0]).toMatchObject({ eventType: 'webhook.test' });
    });
  },
  webhookConfig,
);
