import { expect, it } from 'vitest';
import { parseConfig } from '../src/config.js';
import { lastTokenFor, outboxFor } from '../src/mail/mail.test-helpers.js';
import { describeEachDialect, expectStatus } from './harness.js';

/** Issue 14, finding 10: what a failed sign-in and a reset link leave in the database. */
describeEachDialect('credentials at rest', (h) => {
  it('a failed sign-in with an unknown name stores only a keyed digest of what was typed', async () => {
    const typed = 'MyPassword-typed-in-the-username-box';
    const login = (username: string) =>
      h.request({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username, password: 'whatever it is' },
      });
    expectStatus(await login(typed), 401);
    expectStatus(await login(typed), 401);
    const u = await h.createUser();
    expectStatus(await login(u.username), 401);
    const rows = await h.ctx.db.kysely
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'auth.login')
      .where('outcome', '=', 'failure')
      .orderBy('id')
      .execute();
    const dump = JSON.stringify(await h.ctx.db.kysely.selectFrom('audit_log').selectAll().execute());
    expect(dump).not.toContain(typed);
    expect(dump.toLowerCase()).not.toContain(typed.toLowerCase());
    const details = rows.map((r) => JSON.parse(String(r.details)));
    expect(details[0].attemptedUsernameDigest).toMatch(/^[0-9a-f]{16}$/);
    expect(details[1].attemptedUsernameDigest).toBe(details[0].attemptedUsernameDigest);
    expect(details[2]).toMatchObject({ attemptedUsername: u.username });
    expect(details[2].attemptedUsernameDigest).toBeUndefined();
  });

  it('reset and verification links are sealed in the mail queue and the outbox, and still work', async () => {
    const u = await h.createUser();
    const to = `${u.username}@example.com`;
    expectStatus(
      await h.request({
        method: 'POST',
        url: '/api/v1/auth/forgot-password',
        payload: { username: u.username },
      }),
      202,
    );
    const queued = JSON.stringify(await h.ctx.db.kysely.selectFrom('mail_queue').selectAll().execute());
    expect(queued).not.toMatch(/token=/);
    const token = await lastTokenFor(h, to);
    const stored = JSON.stringify(await h.ctx.db.kysely.selectFrom('mail_outbox').selectAll().execute());
    expect(stored).not.toContain(token);
    expect(stored).not.toContain(encodeURIComponent(token));
    expect(stored).not.toMatch(/token=/);
    expect((await outboxFor(h, to))[0]!.subject).toMatch(/reset/i);
    expectStatus(
      await h.request({
        method: 'POST',
        url: '/api/v1/auth/reset-password',
        payload: { token, newPassword: 'reset through a sealed link' },
      }),
      200,
    );
    await h.login(u.username, 'reset through a sealed link');
  });
});

/** Issue 11: a webhook's signing secret, and the one before a rotation, are sealed in the database. */
describeEachDialect(
  'webhook secrets at rest',
  (h) => {
    it('stores the secret and the previous one only sealed; the owner still reads them back', async () => {
      const created = await h.request({
        method: 'POST',
        url: '/api/v1/webhooks',
        as: h.admin,
        payload: { url: 'http://127.0.0.1:9/at-rest' },
      });
      expectStatus(created, 201);
      const { id, secret: first } = created.json() as { id: number; secret: string };
      const rotated = await h.request({
        method: 'POST',
        url: `/api/v1/webhooks/${id}/rotate-secret`,
        as: h.admin,
      });
      expectStatus(rotated, 200);
      const second = rotated.json().secret as string;
      expect(first).toMatch(/^whsec_/);
      expect(second).toMatch(/^whsec_/);
      const row = await h.ctx.db.kysely
        .selectFrom('webhooks')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      const stored = JSON.stringify(row);
      for (const secret of [first, second]) {
        expect(stored).not.toContain(secret);
        expect(stored).not.toContain(secret.slice('whsec_'.length));
      }
      expect(stored).not.toContain('whsec_');
      expect(h.ctx.secrets.decrypt(row.secret_sealed)).toBe(second);
      expect(h.ctx.secrets.decrypt(row.previous_secret_sealed!)).toBe(first);
      const read = await h.request({ method: 'GET', url: `/api/v1/webhooks/${id}/secret`, as: h.admin });
      expect(read.json().secret).toBe(second);
    });
  },
  { webhooks: { ...parseConfig({}).webhooks, allowedHosts: ['127.0.0.1/32'], sender: false } },
);
