import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { describeEachDialect, errorCode, expectStatus, type TestUser } from '../../test/harness.js';
import { WebhookReceiver } from '../../test/webhook-receiver.js';
import { parseConfig } from '../config.js';

const webhookConfig = {
  webhooks: { ...parseConfig({}).webhooks, allowedHosts: ['127.0.0.1/32'], timeoutMs: 2000 },
};

describeEachDialect(
  'webhooks: API, permissions, owners and sharing',
  (h) => {
    const rx = new WebhookReceiver();
    let owner: TestUser;
    let other: TestUser;
    beforeAll(async () => {
      await rx.start();
      owner = await h.createUser();
      other = await h.createUser();
    });
    afterAll(() => rx.stop());
    beforeEach(async () => {
      await h.ctx.db.kysely.updateTable('webhooks').set({ enabled: 0 }).execute();
      await h.ctx.webhookSender.drain();
      rx.clear();
    });

    const create = (as: TestUser['session'], payload: Record<string, unknown>) =>
      h.request({ method: 'POST', url: '/api/v1/webhooks', as, payload });
    /** The audit entries about one webhook, oldest first. */
    const auditOf = (webhookId: number) =>
      h.ctx.db.kysely
        .selectFrom('audit_log')
        .select(['action', 'details', 'actor_user_id', 'actor_username'])
        .where('target_type', '=', 'webhook')
        .where('target_id', '=', String(webhookId))
        .orderBy('id')
        .execute();

    it('answers bad input with a 4xx naming the field, and changes nothing', async () => {
      const before = await h.ctx.db.kysely.selectFrom('webhooks').select('id').execute();
      const cases: Array<[Record<string, unknown>, number, string, string?]> = [
        [{ url: 'ftp://example.com/' }, 400, 'WEBHOOK_URL_INVALID', 'url'],
        [{ url: 'not a url' }, 400, 'WEBHOOK_URL_INVALID', 'url'],
        [{ url: 'http://user:pw@example.com/' }, 400, 'WEBHOOK_URL_INVALID', 'url'],
        [{ url: 'http://10.0.0.1/hook' }, 400, 'WEBHOOK_URL_REFUSED', 'url'],
        [{ url: 'http://127.0.0.2:9/hook' }, 400, 'WEBHOOK_URL_REFUSED', 'url'],
        [{ url: 'http://169.254.169.254/latest/meta-data' }, 400, 'WEBHOOK_URL_REFUSED', 'url'],
        [{ url: 'http://[::1]:9/' }, 400, 'WEBHOOK_URL_REFUSED', 'url'],
        [{ url: rx.url, module: 'Nope' }, 400, 'WEBHOOK_MODULE_INVALID', 'module'],
        [{ url: rx.url, operations: [] }, 400, 'VALIDATION_FAILED'],
        [{ url: rx.url, operations: ['exploded'] }, 400, 'VALIDATION_FAILED'],
        [{ url: rx.url, description: 'x'.repeat(501) }, 400, 'VALIDATION_FAILED'],
        [{ url: 42 }, 400, 'VALIDATION_FAILED'],
      ];
      for (const [payload, status, code, field] of cases) {
        const res = await create(owner.session, payload);
        expect(res.statusCode, JSON.stringify(payload)).toBe(status);
        expect(errorCode(res), JSON.stringify(payload)).toBe(code);
        if (field) expect(res.body).toContain(field);
      }
      expect(await h.ctx.db.kysely.selectFrom('webhooks').select('id').execute()).toEqual(before);
    });

    it('shows a webhook to its owner and admins only; the secret to its owner only', async () => {
      const res = await create(owner.session, {
        url: `${rx.url}/mine`,
        module: 'Contacts',
        description: 'CRM sync',
      });
      expectStatus(res, 201);
      const hook = res.json();
      expect(hook).toMatchObject({ userId: owner.id, module: 'Contacts', status: 'Active' });
      expect(hook.operations).toEqual(['created', 'updated', 'deleted']);
      const base = `/api/v1/webhooks/${hook.id}`;
      // another user learns nothing: every route of the webhook answers 404
      const routes: Array<[string, string, unknown?]> = [
        ['GET', base],
        ['PATCH', base, { enabled: false }],
        ['DELETE', base],
        ['GET', `${base}/secret`],
        ['POST', `${base}/rotate-secret`],
        ['POST', `${base}/test`],
        ['GET', `${base}/deliveries`],
        ['GET', `${base}/deliveries/1`],
        ['POST', `${base}/deliveries/1/redeliver`],
        ['POST', `${base}/recover`, { since: '2026-01-01T00:00:00Z' }],
      ];
      for (const [method, url, payload] of routes) {
        const r = await h.request({
          method: method as 'GET',
          url,
          as: other.session,
          payload: payload as never,
        });
        expect(r.statusCode, `${method} ${url}`).toBe(404);
        expect(errorCode(r)).toBe('WEBHOOK_NOT_FOUND');
      }
      const listed = await h.request({
        method: 'GET',
        url: `/api/v1/users/${owner.id}/webhooks`,
        as: other.session,
      });
      expect(listed.statusCode).toBe(403);
      expect(
        (await h.request({ method: 'GET', url: '/api/v1/webhooks', as: other.session })).json().items,
      ).toEqual([]);

      // the owner reads the secret again (audited); admins may not
      const secret = await h.request({ method: 'GET', url: `${base}/secret`, as: owner.session });
      expectStatus(secret, 200);
      expect(secret.json().secret).toBe(hook.secret);
      const adminSecret = await h.request({ method: 'GET', url: `${base}/secret`, as: h.admin });
      expect(adminSecret.statusCode).toBe(403);

      // API Management: the admin sees URL, Entity, Operation Type and Status, and switches it off
      const adminList = await h.request({
        method: 'GET',
        url: `/api/v1/users/${owner.id}/webhooks`,
        as: h.admin,
      });
      expectStatus(adminList, 200);
      expect(adminList.json().items).toEqual([
        expect.objectContaining({ id: hook.id, url: `${rx.url}/mine`, module: 'Contacts', status: 'Active' }),
      ]);
      expect(JSON.stringify(adminList.json())).not.toContain('whsec_');
      const moved = await h.request({
        method: 'PATCH',
        url: base,
        as: h.admin,
        payload: { url: 'https://example.com/x' },
      });
      expect(moved.statusCode).toBe(403);
      const off = await h.request({ method: 'PATCH', url: base, as: h.admin, payload: { enabled: false } });
      expectStatus(off, 200);
      expect(off.json().status).toBe('Inactive');
      const audit = await auditOf(hook.id);
      expect(audit.map((a) => a.action)).toEqual([
        'webhook.created',
        'webhook.secret_viewed',
        'webhook.disabled',
      ]);
      expect(JSON.stringify(audit)).not.toContain('whsec_');
      expect(h.allLogs()).not.toContain(hook.secret);
    });

    it('the owner edits URL, entity, operations and description; bad edits change nothing; every change is audited', async () => {
      const created = await create(owner.session, {
        url: `${rx.url}/before`,
        module: 'Contacts',
        operations: ['created'],
      });
      expectStatus(created, 201);
      const hook = created.json();
      const base = `/api/v1/webhooks/${hook.id}`;
      const patch = (payload: Record<string, unknown>) =>
        h.request({ method: 'PATCH', url: base, as: owner.session, payload });
      const edited = await patch({
        url: `${rx.url}/after`,
        module: 'Leads',
        operations: ['created', 'updated'],
        description: 'moved to leads',
      });
      expectStatus(edited, 200);
      expect(edited.json()).toMatchObject({
        url: `${rx.url}/after`,
        module: 'Leads',
        operations: ['created', 'updated'],
        description: 'moved to leads',
        status: 'Active',
      });
      // the save-time checks hold for edits too, and a refused edit changes nothing
      const refused: Array<[Record<string, unknown>, string]> = [
        [{ url: 'http://10.1.2.3/hook' }, 'WEBHOOK_URL_REFUSED'],
        [{ url: 'http://169.254.169.254/' }, 'WEBHOOK_URL_REFUSED'],
        [{ url: 'gopher://example.com/' }, 'WEBHOOK_URL_INVALID'],
        [{ module: 'Nope' }, 'WEBHOOK_MODULE_INVALID'],
        [{ operations: ['exploded'] }, 'VALIDATION_FAILED'],
      ];
      for (const [payload, code] of refused) {
        const r = await patch(payload);
        expect(r.statusCode, JSON.stringify(payload)).toBe(400);
        expect(errorCode(r), JSON.stringify(payload)).toBe(code);
      }
      const now = await h.request({ method: 'GET', url: base, as: owner.session });
      expect(now.json()).toMatchObject({ url: `${rx.url}/after`, module: 'Leads' });
      // deliveries follow the edit: a lead goes to the new URL
      const lead = await h.request({
        method: 'POST',
        url: '/api/v1/records/Leads',
        as: owner.session,
        payload: { lastname: 'Edited', company: 'Hooks Ltd' },
      });
      expectStatus(lead, 201);
      await h.ctx.webhookSender.drain();
      expect(rx.received.map((r, i) => [r.path, rx.json(i).type])).toEqual([['/after', 'leads.created']]);
      expectStatus(await h.request({ method: 'POST', url: `${base}/rotate-secret`, as: owner.session }), 200);
      expectStatus(await h.request({ method: 'DELETE', url: base, as: owner.session }), 204);
      const audit = await auditOf(hook.id);
      expect(audit.map((a) => a.action)).toEqual([
        'webhook.created',
        'webhook.updated',
        'webhook.secret_rotated',
        'webhook.deleted',
      ]);
      expect(audit.every((a) => a.actor_user_id === owner.id)).toBe(true);
      expect(JSON.parse(String(audit[1]!.details))).toMatchObject({
        fields: ['url', 'module', 'operations', 'description'],
        url: `${rx.url}/after`,
      });
      expect(JSON.stringify(audit)).not.toContain('whsec_');
    });

    it('off means off: nothing is sent or queued while the webhook or its owner API access is off', async () => {
      // the owner may see everyone's contacts, so only the webhook's and the owner's state decide
      expectStatus(
        await h.request({
          method: 'PUT',
          url: '/api/v1/sharing-defaults',
          as: h.admin,
          payload: { Contacts: 'public_read' },
        }),
        200,
      );
      const hook = (
        await create(owner.session, { url: rx.url, module: 'Contacts', operations: ['created'] })
      ).json();
      const count = async () =>
        Number(
          (
            await h.ctx.db.kysely
              .selectFrom('webhook_deliveries')
              .select((eb) => eb.fn.countAll<number>().as('n'))
              .where('webhook_id', '=', hook.id)
              .executeTakeFirstOrThrow()
          ).n,
        );
      const write = async (name: string) =>
        expectStatus(
          await h.request({
            method: 'POST',
            url: '/api/v1/records/Contacts',
            as: h.admin,
            payload: { lastname: name },
          }),
          201,
        );
      await write('on');
      await rx.waitFor(1);
      // the webhook switched off
      await h.request({
        method: 'PATCH',
        url: `/api/v1/webhooks/${hook.id}`,
        as: owner.session,
        payload: { enabled: false },
      });
      await write('webhook off');
      expect(await count()).toBe(1);
      await h.request({
        method: 'PATCH',
        url: `/api/v1/webhooks/${hook.id}`,
        as: owner.session,
        payload: { enabled: true },
      });
      // API access off
      await h.request({
        method: 'PUT',
        url: `/api/v1/users/${owner.id}/api-access`,
        as: h.admin,
        payload: { enabled: false },
      });
      await write('api access off');
      expect(await count()).toBe(1);
      // back on: future events flow again
      await h.request({
        method: 'PUT',
        url: `/api/v1/users/${owner.id}/api-access`,
        as: h.admin,
        payload: { enabled: true },
      });
      await write('api access on');
      await rx.waitFor(2);
      // key cleared (Clear API Key turns API access off too)
      await h.request({ method: 'DELETE', url: `/api/v1/users/${owner.id}/access-key`, as: h.admin });
      await write('key cleared');
      expect(await count()).toBe(2);
      await h.request({
        method: 'PUT',
        url: `/api/v1/users/${owner.id}/api-access`,
        as: h.admin,
        payload: { enabled: true },
      });
      // inactive owner
      await h.request({
        method: 'PATCH',
        url: `/api/v1/users/${owner.id}`,
        as: h.admin,
        payload: { status: 'Inactive' },
      });
      await write('inactive');
      expect(await count()).toBe(2);
      await h.request({
        method: 'PATCH',
        url: `/api/v1/users/${owner.id}`,
        as: h.admin,
        payload: { status: 'Active' },
      });
      await write('active again');
      await rx.waitFor(3);
      expect(
        rx.received.map((r) => (JSON.parse(r.body).data.record as { lastname: string }).lastname),
      ).toEqual(['on', 'api access on', 'active again']);
    });

    it('a deleted owner sends nothing: queued messages are cancelled, records moved to others still notify them', async () => {
      const leaving = await h.createUser();
      const receiver = await h.createUser();
      rx.respond = (_r, res) => res.writeHead(500).end();
      const hook = (await create(leaving.session, { url: rx.url, module: 'Contacts' })).json();
      const theirs = (
        await create(receiver.session, {
          url: `${rx.url}/receiver`,
          module: 'Contacts',
          operations: ['updated'],
        })
      ).json();
      const rec = await h.request({
        method: 'POST',
        url: '/api/v1/records/Contacts',
        as: h.admin,
        payload: { lastname: 'Owned', assigned_user_id: leaving.id },
      });
      expectStatus(rec, 201);
      await rx.waitFor(1);
      await h.ctx.webhookSender.drain();
      rx.respond = (_r, res) => res.writeHead(200).end();
      const del = await h.request({
        method: 'DELETE',
        url: `/api/v1/users/${leaving.id}?transferTo=${receiver.id}`,
        as: h.admin,
      });
      expectStatus(del, 200);
      h.clock.advance(10_000);
      await h.ctx.webhookSender.drain();
      const rows = await h.ctx.db.kysely
        .selectFrom('webhook_deliveries')
        .select(['webhook_id', 'status', 'event_type'])
        .where('webhook_id', 'in', [hook.id, theirs.id])
        .orderBy('id')
        .execute();
      expect(rows).toEqual([
        { webhook_id: hook.id, status: 'cancelled', event_type: 'contacts.created' },
        // the ownership transfer is a change like any other: the receiver's webhook hears of it
        { webhook_id: theirs.id, status: 'delivered', event_type: 'contacts.updated' },
      ]);
      const purge = await h.request({
        method: 'DELETE',
        url: `/api/v1/users/${leaving.id}?transferTo=${receiver.id}&permanent=true`,
        as: h.admin,
      });
      expectStatus(purge, 200);
      expect(
        await h.ctx.db.kysely.selectFrom('webhooks').select('id').where('id', '=', hook.id).execute(),
      ).toEqual([]);
    });

    it('sends only records the owner may see, and only modules the owner may view', async () => {
      const viewer = await h.createUser({ roleId: await h.roleId('Sales Manager') });
      const peer = await h.createUser({ roleId: await h.roleId('Sales Manager') });
      const subordinate = await h.createUser({ roleId: await h.roleId('Sales Person') });
      expectStatus(
        await h.request({
          method: 'PUT',
          url: '/api/v1/sharing-defaults',
          as: h.admin,
          payload: { Leads: 'private' },
        }),
        200,
      );
      const hook = (
        await create(viewer.session, { url: rx.url, module: 'Leads', operations: ['created'] })
      ).json();
      expect(hook.id).toBeGreaterThan(0);
      for (const [who, u] of [
        ['peer', peer],
        ['subordinate', subordinate],
        ['own', viewer],
      ] as const) {
        expectStatus(
          await h.request({
            method: 'POST',
            url: '/api/v1/records/Leads',
            as: h.admin,
            payload: { lastname: who, company: 'Sharing Co', assigned_user_id: u.id },
          }),
          201,
        );
      }
      await rx.waitFor(2);
      await h.ctx.webhookSender.drain();
      expect(
        rx.received.map((r) => (JSON.parse(r.body).data.record as { lastname: string }).lastname).sort(),
      ).toEqual(['own', 'subordinate']);
      // a user whose profile does not allow Leads cannot subscribe to them
      const role = await h.createRole(
        'Leadless (webhooks)',
        { Leads: { view: false, create: false, edit: false, delete: false } },
        await h.roleId('Sales Manager'),
      );
      const outsider = await h.createUser({ roleId: role.roleId });
      const refused = await create(outsider.session, { url: rx.url, module: 'Leads' });
      expect(refused.statusCode).toBe(400);
      expect(errorCode(refused)).toBe('WEBHOOK_MODULE_INVALID');
      // subscribed to every module, they still hear nothing of Leads
      expectStatus(await create(outsider.session, { url: `${rx.url}/all`, module: '*' }), 201);
      rx.clear();
      await h.request({
        method: 'POST',
        url: '/api/v1/records/Leads',
        as: h.admin,
        payload: { lastname: 'Hidden', company: 'Sharing Co', assigned_user_id: outsider.id },
      });
      await h.ctx.webhookSender.drain();
      expect(rx.received.filter((r) => r.path === '/all')).toEqual([]);
    });
  },
  webhookConfig,
);
