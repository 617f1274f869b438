import { once } from 'node:events';
import { createServer } from 'node:net';
import path from 'node:path';
import Database from 'better-sqlite3';
import nodemailer from 'nodemailer';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dovecot, HAVE_DOVECOT } from './dovecot.js';
import { DIALECTS } from './harness.js';
import { freePort, login, type RunningServer, startServer } from './process.js';
import { databaseEnv } from './process-databases.js';

const ADMIN_PASSWORD = 'mailroom-kill-admin-password';
const N = 200;

function message(i: number): Buffer {
  return Buffer.from(
    [
      `From: Sender ${i} <sender-${i}@kill.example>`,
      'To: crm@rapport.example',
      `Subject: Kill test ${i}`,
      'Date: Tue, 24 Nov 2026 10:00:00 +0000',
      `Message-ID: <kill-${i}@kill.example>`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      `Message number ${i}.`,
      '',
    ].join('\r\n'),
  );
}

/** Reads the process's database from the test (SQLite read-only beside the server, or PostgreSQL). */
async function reader(dialect: string, env: Record<string, string>) {
  if (dialect === 'sqlite') {
    const file = path.join(env.DATA_DIR!, 'rapport.db');
    return {
      all: async (sql: string) => {
        const db = new Database(file, { readonly: true, fileMustExist: true });
        try {
          return db.prepare(sql).all() as Record<string, unknown>[];
        } finally {
          db.close();
        }
      },
      close: async () => {},
    };
  }
  const client = new pg.Client({ connectionString: env.DATABASE_URL });
  await client.connect();
  return {
    all: async (sql: string) => (await client.query(sql)).rows as Record<string, unknown>[],
    close: () => client.end(),
  };
}

const d = HAVE_DOVECOT ? describe : describe.skip;

/**
 * Issue 12: "`kill -9` during a batch loses no message and duplicates no record". A real Rapport process
 * polls a Dovecot mailbox of N messages and is killed with SIGKILL while it turns them into records; the
 * restarted process (after the dead one's leases lapse) finishes the job: exactly N log entries and N
 * records, one per Message-ID.
 */
d.each(DIALECTS)('mailroom survives kill -9 mid-batch [%s]', (dialect) => {
  const dovecot = new Dovecot();
  let db: Awaited<ReturnType<typeof databaseEnv>>;
  let server: RunningServer | undefined;
  beforeAll(async () => {
    await dovecot.start();
    db = await databaseEnv(dialect);
  }, 30_000);
  afterAll(async () => {
    await server?.stop('SIGKILL');
    await dovecot.stop();
    await db?.cleanup();
  });

  it(`loses no message and duplicates no record (${N} messages)`, async () => {
    await dovecot.deliver(
      'INBOX',
      Array.from({ length: N }, (_, i) => message(i)),
    );
    const env = {
      ...db.env,
      RAPPORT_ADMIN_PASSWORD: ADMIN_PASSWORD,
      LOG_REQUESTS: 'false',
      LOG_LEVEL: 'warn',
      // a killed process's mailbox lease lapses after 2 s, its message leases after 4 s
      MAILROOM_LEASE_SECONDS: '2',
    };
    server = await startServer(env);
    const session = await login(server.url, 'admin', ADMIN_PASSWORD);
    const keyRes = await fetch(`${server.url}/api/v1/users/me/access-key`, {
      headers: { cookie: session.cookie },
    });
    const { accessKey } = (await keyRes.json()) as { accessKey: string };
    const headers = { authorization: `Bearer ${accessKey}`, 'content-type': 'application/json' };
    const rule = await fetch(`${server.url}/api/v1/mailroom/rules`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        name: 'Everything',
        action: 'create',
        module: 'Contacts',
        assignedUserId: session.userId,
      }),
    });
    expect(rule.status, await rule.clone().text()).toBe(201);
    const box = await fetch(`${server.url}/api/v1/mailroom/mailboxes`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        name: 'Kill',
        host: '127.0.0.1',
        port: dovecot.port,
        tls: false,
        username: dovecot.user,
        password: dovecot.password,
        folders: ['INBOX'],
        scan: 'unread',
        afterScan: 'mark_read',
        pollSeconds: 30,
      }),
    });
    expect(box.status, await box.clone().text()).toBe(201);
    const mailboxId = ((await box.json()) as { id: number }).id;

    const q = await reader(dialect, env);
    try {
      const processed = async () =>
        Number((await q.all(`select count(*) as n from mailroom_messages where status = 'processed'`))[0]!.n);
      // "poll now" runs the poll inside the request: it is still running when the process dies
      const poll = fetch(`${server.url}/api/v1/mailroom/mailboxes/${mailboxId}/poll`, {
        method: 'POST',
        headers,
      }).catch(() => null);
      // generous limits: on a loaded machine (CI shares two cores) a start and 30 messages can take long
      const deadline = Date.now() + 45_000;
      let atKill = 0;
      for (;;) {
        atKill = await processed();
        if (atKill >= 30) break;
        if (Date.now() > deadline) throw new Error(`only ${atKill} messages processed:\n${server.output()}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      await server.stop('SIGKILL');
      await poll;
      expect(atKill).toBeLessThan(N);

      // the dead process's message leases lapse (4 s); then a new process with the SMTP intake on
      const killedAt = Date.now();
      const stored = Number((await q.all('select count(*) as n from mailroom_messages'))[0]!.n);
      await new Promise((r) => setTimeout(r, Math.max(0, 4500 - (Date.now() - killedAt))));
      const smtpPort = await freePort();
      server = await startServer({
        ...env,
        SMTP_INTAKE_PORT: String(smtpPort),
        SMTP_INTAKE_RECIPIENTS: 'crm@rapport.example',
      });
      const until = Date.now() + 45_000;
      for (;;) {
        const open = Number(
          (await q.all(`select count(*) as n from mailroom_messages where status <> 'processed'`))[0]!.n,
        );
        if ((await processed()) >= N && open === 0) break;
        if (Date.now() > until)
          throw new Error(`stuck at ${await processed()} processed, ${open} open:\n${server.output()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const rows = await q.all(
        `select message_id, record_id, status from mailroom_messages where mailbox_id = ${mailboxId}`,
      );
      expect(rows).toHaveLength(N);
      expect(new Set(rows.map((r) => r.message_id)).size).toBe(N);
      expect(new Set(rows.map((r) => r.record_id)).size).toBe(N);
      expect(rows.every((r) => r.status === 'processed' && r.record_id != null)).toBe(true);
      const contacts = await q.all(
        `select count(*) as n, count(distinct label) as labels from crm_entities
          where module = 'Contacts' and deleted_at is null and label like 'Sender %'`,
      );
      expect(Number(contacts[0]!.n)).toBe(N);
      expect(Number(contacts[0]!.labels)).toBe(N);
      expect(stored).toBeLessThanOrEqual(N);
      // the batch the dead process stored but did not mark read is marked read by the next poll
      const unseen = async () => {
        const c = await dovecot.client();
        try {
          const lock = await c.getMailboxLock('INBOX');
          try {
            return (await c.search({ seen: false }, { uid: true })) || [];
          } finally {
            lock.release();
          }
        } finally {
          await c.logout();
        }
      };
      const readBy = Date.now() + 20_000;
      while ((await unseen()).length > 0 && Date.now() < readBy) await new Promise((r) => setTimeout(r, 200));
      expect(await unseen()).toEqual([]);

      // `serve` started the SMTP intake: a message delivered to it is stored and answered 250
      const transport = nodemailer.createTransport({
        host: '127.0.0.1',
        port: smtpPort,
        secure: false,
        ignoreTLS: true,
      });
      const info = await transport.sendMail({
        envelope: { from: 'x@kill.example', to: ['crm+kill@rapport.example'] },
        raw: message(N),
      });
      transport.close();
      expect(info.response).toMatch(/^250 /);
      const intake = await q.all(`select status from mailroom_messages where source_key = 'intake'`);
      expect(intake).toEqual([{ status: 'processed' }]);
    } finally {
      await q.close();
    }
    // a clean stop: the IDLE watcher and the SMTP intake close within the shutdown limit
    expect(await server.stop('SIGTERM')).toBe(0);
    server = undefined;
  }, 90_000);
});

describe('rapport serve with the SMTP intake on a port in use', () => {
  it('stops with a message naming the port and SMTP_INTAKE_PORT', async () => {
    const blocker = createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const port = (blocker.address() as { port: number }).port;
    const db = await databaseEnv('sqlite');
    try {
      const err = await startServer({
        ...db.env,
        RAPPORT_ADMIN_PASSWORD: ADMIN_PASSWORD,
        SMTP_INTAKE_PORT: String(port),
        SMTP_INTAKE_RECIPIENTS: 'crm@rapport.example',
      }).then(
        async (s) => {
          await s.stop('SIGKILL');
          return null;
        },
        (e: Error) => e,
      );
      expect(err?.message).toMatch(/server exited early \(1\)/);
      expect(err?.message).toContain(
        `the SMTP intake cannot listen on 127.0.0.1:${port} (SMTP_INTAKE_PORT): the port is in use`,
      );
    } finally {
      blocker.close();
      await db.cleanup();
    }
  }, 60_000);
});
