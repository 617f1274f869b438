import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config.js';
import { type AppContext, closeContext, createContext } from '../src/context.js';
import { type App, buildApp } from '../src/http/app.js';
import { databaseAppError } from '../src/http/error-handler.js';
import { enqueueMail } from '../src/mail/mail-queue.repository.js';
import { MemoryMailer } from '../src/mail/mailer.js';
import { createLogger } from '../src/platform/logger.js';
import { ensureInitialAdmin } from '../src/users/bootstrap.js';
import { ADMIN_PASSWORD, DIALECTS, PG_URL } from './harness.js';

/** A Rapport app on a database of this test's own, so taking it away disturbs nobody else. */
async function startApp(env: Record<string, string>) {
  const mailer = new MemoryMailer();
  const config = {
    ...parseConfig({ LOG_LEVEL: 'warn', ...env }),
    dataDir: mkdtempSync(path.join(tmpdir(), 'rapport-outage-')),
    secretKeyHex: randomBytes(32).toString('hex'),
    fastPasswordHashing: true,
    adminPassword: ADMIN_PASSWORD,
  };
  if (config.database.kind === 'sqlite') config.database.file = path.join(config.dataDir, 'rapport.db');
  const lines: string[] = [];
  const logger = createLogger('info', { write: (l: string) => void lines.push(l) });
  const ctx = await createContext(config, { logger, mailer });
  await ensureInitialAdmin(ctx);
  const app = await buildApp(ctx);
  await app.ready();
  return { ctx, app, mailer, lines };
}

async function login(app: App): Promise<{ statusCode: number; cookie: string; body: string }> {
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { username: 'admin', password: ADMIN_PASSWORD },
  });
  const cookie = String(res.headers['set-cookie'] ?? '').split(';')[0] ?? '';
  return { statusCode: res.statusCode, cookie, body: res.body };
}

function expectUnavailable(res: { statusCode: number; headers: Record<string, unknown>; body: string }) {
  expect(res.statusCode, res.body).toBe(503);
  expect(res.headers['retry-after']).toBe('5');
  const body = JSON.parse(res.body);
  expect(body.error?.code ?? body.error?.code, res.body).toBe('DATABASE_UNAVAILABLE');
}

async function waitFor(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.runIf(DIALECTS.includes('postgres'))(
  'PostgreSQL outage: 503 while away, recovery without restart',
  () => {
    const dbName = `rapport_outage_${randomBytes(4).toString('hex')}`;
    const adminClient = new pg.Client({ connectionString: PG_URL });
    let t: Awaited<ReturnType<typeof startApp>>;
    const url = new URL(PG_URL);
    url.pathname = `/${dbName}`;

    const takeAway = async () => {
      await adminClient.query(`alter database ${dbName} allow_connections false`);
      await adminClient.query(
        'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
        [dbName],
      );
    };
    const giveBack = () => adminClient.query(`alter database ${dbName} allow_connections true`);

    beforeAll(async () => {
      await adminClient.connect();
      await adminClient.query(`create database ${dbName}`);
      t = await startApp({ DATABASE_URL: url.toString(), DATABASE_CONNECT_TIMEOUT_SECONDS: '1' });
    });
    afterAll(async () => {
      await giveBack().catch(() => {});
      if (t) {
        await t.app.close();
        await closeContext(t.ctx);
      }
      await adminClient.query(`drop database if exists ${dbName} with (force)`);
      await adminClient.end();
    });

    it('answers 503 with Retry-After during the outage, keeps running, and recovers by itself', async () => {
      const session = await login(t.app);
      expect(session.statusCode, session.body).toBe(200);
      expect((await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);

      await takeAway();
      // the idle connections die now: without handling, the pool's 'error' event would end the process
      await new Promise((r) => setTimeout(r, 200));

      const me = await t.app.inject({
        method: 'GET',
        url: '/api/v1/me',
        headers: { cookie: session.cookie },
      });
      expectUnavailable(me);
      expectUnavailable(
        await t.app.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          payload: { username: 'admin', password: ADMIN_PASSWORD },
        }),
      );
      const ws = await t.app.inject({
        method: 'GET',
        url: '/webservice.php?operation=getchallenge&username=admin',
      });
      expect(ws.statusCode, ws.body).toBe(503);
      expect(JSON.parse(ws.body)).toMatchObject({ success: false, error: { code: 'DATABASE_UNAVAILABLE' } });
      const started = Date.now();
      const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect(Date.now() - started).toBeLessThan(2000);
      expect(ready.json()).toMatchObject({ status: 'unavailable', checks: { database: 'unreachable' } });

      // background work: the mail queue fails, backs off, and sends once the database is back
      t.ctx.mailQueue.kick();
      await t.ctx.mailQueue.drain();

      await giveBack();
      await waitFor('recovery', async () => {
        const r = await t.app.inject({
          method: 'GET',
          url: '/api/v1/me',
          headers: { cookie: session.cookie },
        });
        return r.statusCode === 200;
      });
      expect((await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
      await t.ctx.db.kysely
        .transaction()
        .execute((trx) =>
          enqueueMail(trx, { to: 'ops@example.com', subject: 'after', text: 'x' }, 'r@x', Date.now()),
        );
      // nobody kicks the queue: its back-off retry finds the mail
      await waitFor('the mail queue to resume', async () => t.mailer.sent.length === 1);
      // the mail is handed to the mailer before the drain finishes and logs that it resumed
      await waitFor('the resume log line', async () => t.lines.join('').includes('mail queue resumed'));
      expect(t.lines.join('')).toContain('mail queue paused: the database is unavailable');
    });

    it('a connection lost in the middle of a transaction fails that transaction, not the process', async () => {
      const failure = await t.ctx.db.kysely
        .transaction()
        .execute(async (trx) => {
          const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
          await adminClient.query('select pg_terminate_backend($1)', [rows[0]!.pid]);
          // the socket closes while the pool has the connection checked out: pg emits 'error' on the client,
          // which ends the process unless somebody listens
          await waitFor('the connection to close', async () => {
            const { rows: left } = await adminClient.query('select 1 from pg_stat_activity where pid = $1', [
              rows[0]!.pid,
            ]);
            return left.length === 0;
          });
          await new Promise((r) => setTimeout(r, 100));
          await sql`select 1`.execute(trx);
        })
        .then(
          () => undefined,
          (err: unknown) => err,
        );
      expect(databaseAppError(failure)?.code).toBe('DATABASE_UNAVAILABLE');
      // the pool dropped the dead connection: the next request is served
      const session = await login(t.app);
      expect(session.statusCode, session.body).toBe(200);
    });
  },
);

describe('SQLite locked by another writer: 503 with Retry-After, then back to normal', () => {
  let t: Awaited<ReturnType<typeof startApp>>;
  beforeAll(async () => {
    t = await startApp({ DATABASE_CONNECT_TIMEOUT_SECONDS: '0.2' });
  });
  afterAll(async () => {
    await t.app.close();
    await closeContext(t.ctx);
  });

  it('a write while another process holds the lock is a 503, not a hang or a 500', async () => {
    const file = (t.ctx.config.database as { file: string }).file;
    const other = new SQLite(file);
    other.pragma('busy_timeout = 0');
    other.exec('begin exclusive');
    try {
      expectUnavailable(
        await t.app.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          payload: { username: 'admin', password: ADMIN_PASSWORD },
        }),
      );
      // readers are not blocked by a writer in WAL mode: still ready
      expect((await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    } finally {
      other.exec('rollback');
      other.close();
    }
    expect((await login(t.app)).statusCode).toBe(200);
  });

  it('the driver error of a read-only database file is a 503 too', async () => {
    const ctx: AppContext = t.ctx;
    const file = (ctx.config.database as { file: string }).file;
    const reader = new SQLite(file, { readonly: true });
    try {
      let failure: unknown;
      try {
        reader.exec('create table written_while_read_only (a integer)');
      } catch (err) {
        failure = err;
      }
      expect(databaseAppError(failure)?.code).toBe('DATABASE_UNAVAILABLE');
    } finally {
      reader.close();
    }
  });
});
