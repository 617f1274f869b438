import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dovecot, HAVE_DOVECOT } from '../../test/dovecot.js';
import { describeEachDialect, expectStatus } from '../../test/harness.js';
import { addRule, countRecords, eml, emlWith, webLeadRule } from '../../test/mailroom-kit.js';
import { MailroomRunner, pollMailbox } from './mailbox.service.js';
import { claimMessage } from './mailroom.service.js';

const d = HAVE_DOVECOT ? describe : describe.skip;

async function waitFor(what: string, check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

d('mailroom over IMAP (a real Dovecot)', () => {
  describeEachDialect('IMAP mailboxes', (h) => {
    const dovecot = new Dovecot();
    beforeAll(() => dovecot.start(), 30_000);
    afterAll(() => dovecot.stop());

    const settings = (over: Record<string, unknown> = {}) => ({
      name: 'Support inbox',
      host: '127.0.0.1',
      port: dovecot.port,
      tls: false,
      username: dovecot.user,
      password: dovecot.password,
      folders: ['INBOX'],
      scan: 'unread',
      afterScan: 'mark_read',
      pollSeconds: 60,
      ...over,
    });

    async function createMailbox(over: Record<string, unknown> = {}): Promise<number> {
      const res = await h.request({
        method: 'POST',
        url: '/api/v1/mailroom/mailboxes',
        as: h.admin,
        payload: settings(over),
      });
      expectStatus(res, 201);
      expect(res.body).not.toContain(dovecot.password);
      expect(res.json().hasPassword).toBe(true);
      return res.json().id;
    }

    async function poll(id: number) {
      const res = await h.request({
        method: 'POST',
        url: `/api/v1/mailroom/mailboxes/${id}/poll`,
        as: h.admin,
      });
      expectStatus(res, 200);
      return res.json();
    }

    async function logFor(mailboxId: number) {
      return h.ctx.db.kysely
        .selectFrom('mailroom_messages')
        .selectAll()
        .where('mailbox_id', '=', mailboxId)
        .orderBy('id')
        .execute();
    }

    it('Test connection says exactly which step failed', async () => {
      const test = async (over: Record<string, unknown>) => {
        const res = await h.request({
          method: 'POST',
          url: '/api/v1/mailroom/mailboxes/test',
          as: h.admin,
          payload: settings(over),
        });
        expectStatus(res, 200);
        return res.json();
      };
      expect(await test({})).toMatchObject({ ok: true, stage: 'ok' });
      const login = await test({ password: 'wrong-password-123' });
      expect(login).toMatchObject({ ok: false, stage: 'login' });
      expect(JSON.stringify(login)).not.toContain('wrong-password-123');
      expect(await test({ folders: ['INBOX', 'Nope'] })).toMatchObject({ ok: false, stage: 'folder' });
      expect(await test({ tls: true })).toMatchObject({ ok: false, stage: 'tls' });
      const closed = await test({ port: 1 });
      expect(closed).toMatchObject({ ok: false, stage: 'connect' });
      expect(await test({ host: 'no-such-host.invalid' })).toMatchObject({ ok: false, stage: 'dns' });
    }, 60_000);

    it('polls new mail into records once: fixtures of every kind, marked read, duplicates and re-polls ignored', async () => {
      await h.ctx.db.kysely.deleteFrom('mailroom_rules').execute();
      await addRule(h, webLeadRule('Web leads', { field: 'subject', op: 'contains', value: 'enquiry' }));
      await addRule(h, { name: 'Everything else', action: 'create', module: 'Contacts' });
      const id = await createMailbox();
      const sealed = await h.ctx.db.kysely
        .selectFrom('mailroom_mailboxes')
        .select('password_sealed')
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      expect(sealed.password_sealed).not.toContain(dovecot.password);

      const fixtures = [
        'web-form.eml',
        'html-table.eml',
        'multipart-attachments.eml',
        'auto-reply.eml',
        'no-message-id.eml',
        'broken.eml',
        'iso-2022-jp.eml',
        'windows-1251.eml',
      ];
      await dovecot.deliver(
        'INBOX',
        fixtures.map((f) => eml(f)),
      );
      // already read mail is not scanned in "unread" mode
      await dovecot.deliver(
        'INBOX',
        [emlWith('no-message-id.eml', { 'Message-ID': '<seen-1@x>' })],
        ['\\Seen'],
      );
      const leadsBefore = await countRecords(h, 'Leads');

      const first = await poll(id);
      expect(first).toMatchObject({
        polled: true,
        fetched: fixtures.length,
        claimed: fixtures.length,
        duplicates: 0,
        error: null,
      });
      const log = await logFor(id);
      expect(log).toHaveLength(fixtures.length);
      const bySubject = new Map(log.map((m) => [m.subject, m]));
      expect(bySubject.get('New enquiry from the contact form')).toMatchObject({
        status: 'processed',
        rule_name: 'Web leads',
        module: 'Leads',
      });
      expect(bySubject.get('Out of office: New enquiry')).toMatchObject({ status: 'skipped' });
      expect(log.every((m) => m.folder === 'INBOX' && m.uid != null)).toBe(true);
      expect(await countRecords(h, 'Leads')).toBe(leadsBefore + 1);

      // marked read on the server
      const c = await dovecot.client();
      const lock = await c.getMailboxLock('INBOX');
      const unseen = await c.search({ seen: false }, { uid: true });
      lock.release();
      await c.logout();
      expect(unseen).toEqual([]);

      // nothing new → nothing fetched; the same message delivered again (new UID) → a duplicate, no record
      expect(await poll(id)).toMatchObject({ fetched: 0, claimed: 0 });
      await dovecot.deliver('INBOX', [eml('web-form.eml')]);
      expect(await poll(id)).toMatchObject({ fetched: 1, claimed: 0, duplicates: 1 });
      expect(await countRecords(h, 'Leads')).toBe(leadsBefore + 1);

      const mailbox = (await h.request({ method: 'GET', url: '/api/v1/mailroom/mailboxes', as: h.admin }))
        .json()
        .items.find((m: { id: number }) => m.id === id);
      expect(mailbox).toMatchObject({ lastError: null, failures: 0 });
      expect(mailbox.lastPolledAt).not.toBeNull();
    }, 60_000);

    it('a UIDVALIDITY change rescans safely; moving after the scan; one poller at a time', async () => {
      await dovecot.deliver('Forms', [
        emlWith('web-form.eml', { 'Message-ID': '<move-1@x>' }),
        emlWith('web-form.eml', { 'Message-ID': '<move-2@x>' }),
      ]);
      const id = await createMailbox({
        name: 'Forms',
        folders: ['Forms'],
        scan: 'all',
        afterScan: 'move',
        moveTo: 'Done',
      });
      await h.ctx.db.kysely
        .insertInto('mailroom_mailboxes')
        .values({
          name: 'x',
          host: 'h',
          port: 1,
          tls: 0,
          username: 'u',
          password_sealed: h.ctx.secrets.encrypt('p'),
          folders: '[]',
          scan: 'all',
          after_scan: 'none',
          poll_seconds: 60,
          enabled: 0,
          created_at: 0,
          updated_at: 0,
        })
        .execute();
      // two polls at once: one holds the lease, the other does nothing
      const [a, b] = await Promise.all([pollMailbox(h.ctx, id), pollMailbox(h.ctx, id)]);
      expect([a, b].filter((x) => x === null)).toHaveLength(1);
      expect((a ?? b)!.claimed).toBe(2);
      const c = await dovecot.client();
      const status = await c.status('Done', { messages: true });
      const left = await c.status('Forms', { messages: true });
      await c.logout();
      expect(status ? status.messages : null).toBe(2);
      expect(left ? left.messages : null).toBe(0);

      // the server renumbers the folder (UIDVALIDITY changes): rescanned, found by Message-ID, nothing doubled
      await dovecot.deliver('Forms', [emlWith('web-form.eml', { 'Message-ID': '<move-1@x>' })]);
      await h.ctx.db.kysely
        .updateTable('mailroom_folder_state')
        .set({ uid_validity: '1', last_uid: 999 })
        .where('mailbox_id', '=', id)
        .execute();
      const records = await countRecords(h, 'Leads');
      expect(await pollMailbox(h.ctx, id)).toMatchObject({ fetched: 1, claimed: 0, duplicates: 1 });
      expect(await countRecords(h, 'Leads')).toBe(records);
    }, 60_000);

    it('IDLE: new mail becomes a record within seconds, long before the next poll; a dropped connection reconnects', async () => {
      await h.ctx.db.kysely.deleteFrom('mailroom_rules').execute();
      await addRule(h, { name: 'Everything', action: 'create', module: 'Contacts' });
      await dovecot.deliver('Idle', []);
      const id = await createMailbox({ name: 'Idle', folders: ['Idle'], pollSeconds: 3600 });
      // only this mailbox: the others of this file would be watched too
      await h.ctx.db.kysely
        .updateTable('mailroom_mailboxes')
        .set({ enabled: 0 })
        .where('id', '!=', id)
        .execute();
      const runner = new MailroomRunner(h.ctx, 60_000);
      runner.start();
      const processed = async (messageId: string) =>
        (await logFor(id)).some((m) => m.message_id === messageId && m.status === 'processed');
      try {
        const box = () =>
          h.ctx.db.kysely
            .selectFrom('mailroom_mailboxes')
            .select(['next_poll_at', 'lease_owner'])
            .where('id', '=', id)
            .executeTakeFirstOrThrow();
        // the first poll ran; the next one is an hour away (the test clock does not move); the lease is held
        await waitFor(
          'the first poll',
          async () => Number((await box()).next_poll_at) - h.ctx.clock.now() > 3_000_000,
        );
        await waitFor('the watcher to idle', async () => runner.watcherOf(id)?.idling === true);
        expect((await box()).lease_owner).not.toBeNull();

        const t0 = Date.now();
        await dovecot.deliver('Idle', [
          emlWith('no-message-id.eml', { 'Message-ID': '<idle-1@x>', Subject: 'Idle one' }),
        ]);
        await waitFor('the message to become a record', () => processed('idle-1@x'), 5000);
        expect(Date.now() - t0).toBeLessThan(5000);

        // the server drops the connection: the error shows on the mailbox, the watcher reconnects
        const watcher = runner.watcherOf(id)!;
        const dropShown = async () => {
          const m = await h.ctx.db.kysely
            .selectFrom('mailroom_mailboxes')
            .select('last_error')
            .where('id', '=', id)
            .executeTakeFirstOrThrow();
          return m.last_error !== null;
        };
        // A poll may still be running when the server drops the connections (the delivery above can wake two):
        // `doveadm kick` drops its connection too, and its own error ("connect: …", without "idle ") replaces
        // the watcher's; or it had finished reading and its "all good" lands just after the watcher's error and
        // clears it. The second shows no error at all, so the server kicks again (at most three times); a drop
        // the watcher missed would still fail here, since every kick finds the same unnoticed connection.
        for (let kick = 1; ; kick++) {
          dovecot.kick();
          try {
            await waitFor('the error on the mailbox', dropShown);
            break;
          } catch (err) {
            if (kick === 3) throw err;
          }
        }
        await waitFor('the watcher to idle again', async () => watcher.idling, 15_000);
        await dovecot.deliver('Idle', [
          emlWith('no-message-id.eml', { 'Message-ID': '<idle-2@x>', Subject: 'Idle two' }),
        ]);
        await waitFor('the second message to become a record', () => processed('idle-2@x'), 5000);
        expect(runner.watcherOf(id)).toBe(watcher);
        // the poll after the reconnect clears the error
        const mailbox = async () =>
          (await h.request({ method: 'GET', url: '/api/v1/mailroom/mailboxes', as: h.admin }))
            .json()
            .items.find((m: { id: number }) => m.id === id);
        await waitFor('the error to clear', async () => (await mailbox()).lastError === null);
        expect(await mailbox()).toMatchObject({ lastError: null, failures: 0 });
      } finally {
        await runner.stop();
      }
      // stopped: the lease is free for another process, nothing idles any more
      expect(runner.watcherOf(id)).toBeUndefined();
      const box = await h.ctx.db.kysely
        .selectFrom('mailroom_mailboxes')
        .select(['lease_owner'])
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      expect(box.lease_owner).toBeNull();
      expect(h.allLogs()).not.toContain(dovecot.password);
      await h.ctx.db.kysely.updateTable('mailroom_mailboxes').set({ enabled: 1 }).execute();
    }, 60_000);

    it('a mailbox whose server hangs does not hold up the other mailboxes’ polls', async () => {
      // a server that accepts and never greets, then drops the connection after a while
      const sockets = new Set<net.Socket>();
      const hanging = net.createServer((s) => {
        sockets.add(s);
        setTimeout(() => s.destroy(), 3_000).unref();
      });
      await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', r));
      try {
        await h.ctx.db.kysely.updateTable('mailroom_mailboxes').set({ enabled: 0 }).execute();
        // the hanging one first: the round takes due mailboxes in id order
        const stuck = await createMailbox({
          name: 'Hangs',
          port: (hanging.address() as net.AddressInfo).port,
        });
        const fine = await createMailbox({ name: 'Fine' });
        await dovecot.deliver('INBOX', [emlWith('no-message-id.eml', { 'Message-ID': '<beside-hang-1@x>' })]);
        const runner = new MailroomRunner(h.ctx, 60_000, false);
        const round = runner.tick();
        await waitFor(
          'the other mailbox’s message',
          async () => (await logFor(fine)).some((m) => m.message_id?.includes('beside-hang-1@x')),
          2_000,
        );
        await round;
        expect(sockets.size).toBeGreaterThan(0);
        const list = await h.request({ method: 'GET', url: '/api/v1/mailroom/mailboxes', as: h.admin });
        const shown = (list.json() as { items: { id: number; lastError: string | null }[] }).items;
        expect(shown.find((b) => b.id === stuck)?.lastError).toBeTruthy();
        expect(shown.find((b) => b.id === fine)?.lastError).toBeNull();
      } finally {
        for (const s of sockets) s.destroy();
        hanging.close();
        await h.ctx.db.kysely.updateTable('mailroom_mailboxes').set({ enabled: 1 }).execute();
      }
    }, 30_000);

    it('a stored but unprocessed message (a crash mid-batch) is processed by the next round, once', async () => {
      const raw = emlWith('no-message-id.eml', { 'Message-ID': '<crash-1@x>' });
      const claimed = await h.ctx.db.kysely
        .transaction()
        .execute((trx) => claimMessage(trx, raw, { key: 'intake' }, h.ctx.clock.now()));
      const runner = new MailroomRunner(h.ctx);
      await runner.tick();
      await runner.tick();
      const row = await h.ctx.db.kysely
        .selectFrom('mailroom_messages')
        .selectAll()
        .where('id', '=', claimed.id)
        .executeTakeFirstOrThrow();
      expect(row.status).toBe('processed');
      expect(row.attempts).toBe(1);
    });

    it('a refused login is shown on the mailbox with a backoff; the password never reaches logs or errors', async () => {
      const id = await createMailbox({ name: 'Wrong', password: 'not-the-password-xyz' });
      const res = await poll(id);
      expect(res.error).toMatch(/^login: /);
      const list = await h.request({ method: 'GET', url: '/api/v1/mailroom/mailboxes', as: h.admin });
      const m = list.json().items.find((x: { id: number }) => x.id === id);
      expect(m.lastError).toMatch(/refused the login/);
      expect(m.failures).toBe(1);
      expect(Date.parse(m.nextPollAt) - h.ctx.clock.now()).toBeGreaterThanOrEqual(120_000);
      for (const secret of ['not-the-password-xyz', dovecot.password]) {
        expect(h.allLogs()).not.toContain(secret);
        expect(list.body).not.toContain(secret);
      }
      // after repeated failures the admins get an email (once)
      for (let i = 0; i < 3; i++) {
        await h.ctx.db.kysely
          .updateTable('mailroom_mailboxes')
          .set({ lease_until: null })
          .where('id', '=', id)
          .execute();
        await pollMailbox(h.ctx, id).catch(() => {});
      }
      const mails = await h.ctx.db.kysely.selectFrom('mail_queue').select(['subject', 'text_body']).execute();
      const alerts = mails.filter((x) => x.subject === 'Rapport mailroom: mailbox "Wrong" cannot be read');
      expect(alerts.length).toBeGreaterThanOrEqual(1);
      expect(JSON.stringify(mails)).not.toContain('not-the-password-xyz');
      const audit = await h.ctx.db.kysely
        .selectFrom('audit_log')
        .select('details')
        .where('action', 'like', 'mailroom.mailbox%')
        .execute();
      expect(audit.length).toBeGreaterThan(0);
      expect(JSON.stringify(audit)).not.toContain('not-the-password-xyz');
    });
  });
});
