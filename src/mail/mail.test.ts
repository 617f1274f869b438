import { afterAll, expect, it } from 'vitest';
import { describeEachDialect, errorCode, expectStatus } from '../../test/harness.js';
import { outboxFor, startSmtpServer } from './mail.test-helpers.js';
import { createMailQueue } from './mail-queue.js';
import { enqueueMail } from './mail-queue.repository.js';
import { MemoryMailer } from './mailer.js';

describeEachDialect('outgoing mail without an SMTP server (outbox)', (h) => {
  it('mail queued in a transaction reaches the outbox after commit, which admins read', async () => {
    await h.ctx.db.kysely
      .transaction()
      .execute((trx) =>
        enqueueMail(
          trx,
          { to: 'someone@example.com', subject: 'Hello', text: 'Body text' },
          'Rapport <r@x.test>',
          h.clock.now(),
        ),
      );
    const items = await outboxFor(h, 'someone@example.com');
    expect(items[0]).toMatchObject({
      from: 'Rapport <r@x.test>',
      to: 'someone@example.com',
      subject: 'Hello',
      text: 'Body text',
    });
  });

  it('mail queued in a transaction that rolls back is never sent', async () => {
    await h.ctx.db.kysely
      .transaction()
      .execute(async (trx) => {
        await enqueueMail(
          trx,
          { to: 'rollback@example.com', subject: 'x', text: 'y' },
          'r@x.test',
          h.clock.now(),
        );
        throw new Error('roll back');
      })
      .catch(() => {});
    expect(await outboxFor(h, 'rollback@example.com')).toEqual([]);
  });

  it('only the account owner sees links mailed to other administrators', async () => {
    const a = await h.createUser({ isAdmin: true });
    const b = await h.createUser({ isAdmin: true });
    const to = `${b.username}@example.com`;
    expect((await outboxFor(h, to))[0]!.text).toMatch(/token=[A-Za-z0-9_-]{20,}/);
    const asOtherAdmin = await h.request({
      method: 'GET',
      url: `/api/v1/mail/outbox?to=${to}`,
      as: a.session,
    });
    expectStatus(asOtherAdmin, 200);
    expect(asOtherAdmin.json().items[0].text).toContain('token=[hidden');
    expect(asOtherAdmin.json().items[0].text).not.toMatch(/token=[A-Za-z0-9_-]{20,}/);
  });

  it('non-admins cannot read the outbox', async () => {
    const u = await h.createUser();
    const res = await h.request({ method: 'GET', url: '/api/v1/mail/outbox', as: u.session });
    expectStatus(res, 403);
    expect(errorCode(res)).toBe('PERMISSION_DENIED');
  });

  it('refuses mail from a user whose address is unverified, and sends from a verified one', async () => {
    const u = await h.createUser();
    await expect(
      h.ctx.db.kysely
        .transaction()
        .execute((trx) =>
          enqueueMail(
            trx,
            { to: 'c@example.com', subject: 's', text: 't', senderUserId: u.id },
            'r@x.test',
            0,
          ),
        ),
    ).rejects.toMatchObject({ code: 'SENDER_UNVERIFIED' });
    await h.ctx.db.kysely
      .updateTable('users')
      .set({ email_verified_at: h.clock.now() })
      .where('id', '=', u.id)
      .execute();
    await h.ctx.db.kysely
      .transaction()
      .execute((trx) =>
        enqueueMail(
          trx,
          { to: 'c2@example.com', subject: 's', text: 't', senderUserId: u.id },
          'r@x.test',
          h.clock.now(),
        ),
      );
    expect((await outboxFor(h, 'c2@example.com'))[0]?.from).toBe(`${u.username}@example.com`);
  });

  it('a message whose sender lost verification before sending is not sent', async () => {
    const u = await h.createUser();
    const db = h.ctx.db.kysely;
    await db.updateTable('users').set({ email_verified_at: h.clock.now() }).where('id', '=', u.id).execute();
    await db
      .transaction()
      .execute((trx) =>
        enqueueMail(
          trx,
          { to: 'c3@example.com', subject: 's', text: 't', senderUserId: u.id },
          'r@x.test',
          h.clock.now(),
        ),
      );
    await db.updateTable('users').set({ email_verified_at: null }).where('id', '=', u.id).execute();
    expect(await outboxFor(h, 'c3@example.com')).toEqual([]);
    const row = await db
      .selectFrom('mail_queue')
      .selectAll()
      .where('to_address', '=', 'c3@example.com')
      .executeTakeFirstOrThrow();
    expect(row.status).toBe('failed');
  });

  it('a failed delivery is retried later, and concurrent senders never send a message twice', async () => {
    const mailer = new MemoryMailer();
    const deps = { db: h.ctx.db, mailer, clock: h.clock, logger: h.ctx.logger };
    const q1 = createMailQueue(deps);
    const q2 = createMailQueue(deps);
    await h.ctx.mailQueue.drain();
    for (let i = 0; i < 30; i++) {
      await enqueueMail(
        h.ctx.db.kysely,
        { to: `bulk${i}@example.com`, subject: 's', text: 't' },
        'r@x.test',
        h.clock.now(),
      );
    }
    mailer.failNext = 1;
    await Promise.all([q1.drain(), q2.drain()]);
    expect(mailer.sent).toHaveLength(29);
    expect(new Set(mailer.sent.map((m) => m.to)).size).toBe(29);
    h.clock.advance(120_000);
    await q1.drain();
    expect(mailer.sent).toHaveLength(30);
    expect(new Set(mailer.sent.map((m) => m.to)).size).toBe(30);
  });
});

const smtp = await startSmtpServer();
afterAll(() => smtp.close());

describeEachDialect(
  'outgoing mail through a real SMTP server',
  (h) => {
    it('delivers queued mail over SMTP with the system sender, and clears the stored body', async () => {
      await h.ctx.db.kysely
        .transaction()
        .execute((trx) =>
          enqueueMail(
            trx,
            { to: 'smtp-test@example.com', subject: 'Over SMTP', text: 'secret link' },
            'rapport@example.test',
            h.clock.now(),
          ),
        );
      expect(await h.ctx.mailQueue.drain()).toBeGreaterThanOrEqual(1);
      const got = smtp.received.find((m) => m.to.includes('smtp-test@example.com'));
      expect(got?.from).toBe('rapport@example.test');
      expect(got?.raw).toContain('Subject: Over SMTP');
      const row = await h.ctx.db.kysely
        .selectFrom('mail_queue')
        .selectAll()
        .where('to_address', '=', 'smtp-test@example.com')
        .executeTakeFirstOrThrow();
      expect(row).toMatchObject({ status: 'sent', text_body: '' });
      const outbox = await h.request({ method: 'GET', url: '/api/v1/mail/outbox', as: h.admin });
      expect(outbox.json()).toMatchObject({ smtpConfigured: true, items: [] });
    });

    it('a forgot-password link travels over SMTP and resets the password', async () => {
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
      await h.ctx.mailQueue.drain();
      const mail = smtp.received.filter((m) => m.to.includes(to)).find((m) => /reset/i.test(m.raw));
      const raw = (mail?.raw ?? '').replace(/=\r?\n/g, '').replace(/=3D/g, '=');
      const token = raw.match(/reset-password\?token=([A-Za-z0-9_-]+)/)?.[1];
      expect(token).toBeDefined();
      const res = await h.request({
        method: 'POST',
        url: '/api/v1/auth/reset-password',
        payload: { token, newPassword: 'reset over smtp works' },
      });
      expectStatus(res, 200);
      await h.login(u.username, 'reset over smtp works');
    });
  },
  { mail: { smtpUrl: smtp.url, from: 'rapport@example.test' } },
);
