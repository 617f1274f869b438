import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from './harness.js';
import { login, type RunningServer, startServer } from './process.js';
import { databaseEnv } from './process-databases.js';
import { WebhookReceiver } from './webhook-receiver.js';

const ADMIN_PASSWORD = 'webhook-process-admin-password';
// a short timeout: claims of a killed process lapse after timeout + 15 s
const SENDER_ENV = { WEBHOOK_ALLOWED_HOSTS: '127.0.0.1/32', WEBHOOK_TIMEOUT_SECONDS: '1', LOG_LEVEL: 'warn' };

async function apiKey(url: string): Promise<Record<string, string>> {
  const session = await login(url, 'admin', ADMIN_PASSWORD);
  const res = await fetch(`${url}/api/v1/users/me/access-key`, { headers: { cookie: session.cookie } });
  const { accessKey } = (await res.json()) as { accessKey: string };
  return { authorization: `Bearer ${accessKey}`, 'content-type': 'application/json' };
}

async function createHook(url: string, headers: Record<string, string>, target: string) {
  const res = await fetch(`${url}/api/v1/webhooks`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ url: target, module: 'Contacts', operations: ['created'] }),
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as { id: number; secret: string };
}

describe.each(DIALECTS)('webhooks survive kill -9 [%s]', (dialect) => {
  const rx = new WebhookReceiver();
  let db: Awaited<ReturnType<typeof databaseEnv>>;
  let server: RunningServer | undefined;
  beforeAll(async () => {
    await rx.start();
    db = await databaseEnv(dialect);
  });
  afterAll(async () => {
    await server?.stop('SIGKILL');
    await rx.stop();
    await db.cleanup();
  });

  it('delivers every committed write after a kill -9 during a stream of writes', async () => {
    const env = { ...db.env, ...SENDER_ENV, RAPPORT_ADMIN_PASSWORD: ADMIN_PASSWORD };
    server = await startServer(env);
    const headers = await apiKey(server.url);
    const hook = await createHook(server.url, headers, `${rx.url}/kill`);
    const committed: number[] = [];
    const url = server.url;
    let writing = true;
    const writers = Array.from({ length: 4 }, async (_, w) => {
      for (let i = 0; writing; i++) {
        try {
          const res = await fetch(`${url}/api/v1/records/Contacts`, {
            method: 'POST',
            headers,
            body: JSON.stringify({ lastname: `Kill ${w}-${i}` }),
          });
          if (res.status === 201) committed.push(((await res.json()) as { id: number }).id);
        } catch {
          return; // the process is gone: whatever was in flight may or may not have committed
        }
      }
    });
    // kill while writes and deliveries are both in full flow
    while (committed.length < 60) await new Promise((r) => setTimeout(r, 20));
    await server.stop('SIGKILL');
    writing = false;
    await Promise.all(writers);
    server = await startServer(env);
    const wanted = new Set(committed);
    const seen = () =>
      new Set(rx.received.map((r) => (JSON.parse(r.body) as { data: { id: number } }).data.id));
    const deadline = Date.now() + 40_000;
    while ([...wanted].some((id) => !seen().has(id)) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));
    const missing = [...wanted].filter((id) => !seen().has(id));
    expect(missing, `${missing.length} of ${wanted.size} committed creates never delivered`).toEqual([]);
    const wh = new Webhook(hook.secret);
    for (const r of rx.received) wh.verify(r.body, r.headers);
  }, 150_000);
});

describe.runIf(DIALECTS.includes('postgres'))('two processes on one PostgreSQL', () => {
  it('deliver 5,000 events between them, none twice, in order per record', async () => {
    const EVENTS = 5_000;
    const db = await databaseEnv('postgres');
    const rx = await new WebhookReceiver().start();
    // The receiver takes 40 ms to answer, so one process's 64 requests in flight per webhook carry at most
    // 1,600 deliveries/s and the 5,000 take seconds: the other process finds the heads of the records the
    // first cannot take on its next poll. Answered at once, one process could hold every head from one
    // claim to the next (CI once saw 5,000 against 0): sharing is for work one process cannot keep up with.
    rx.respond = (_req, res) => void setTimeout(() => res.writeHead(200).end('ok'), 40);
    const dirs = [
      mkdtempSync(path.join(tmpdir(), 'rapport-wa-')),
      mkdtempSync(path.join(tmpdir(), 'rapport-wb-')),
    ];
    const shared = {
      ...db.env,
      ...SENDER_ENV,
      WEBHOOK_TIMEOUT_SECONDS: '5',
      RAPPORT_SECRET_KEY: randomBytes(32).toString('hex'),
      RAPPORT_ADMIN_PASSWORD: ADMIN_PASSWORD,
    };
    const servers: RunningServer[] = [];
    try {
      servers.push(await startServer({ ...shared, DATA_DIR: dirs[0]! }));
      servers.push(await startServer({ ...shared, DATA_DIR: dirs[1]! }));
      const headers = await apiKey(servers[0]!.url);
      const hook = await createHook(servers[0]!.url, headers, `${rx.url}/bulk`);
      // the event rows a stream of 5,000 record changes would leave, written in ten batches so that both
      // processes find them (woken by their polls) while the other may be expanding or sending
      const c = new pg.Client({ connectionString: db.env.DATABASE_URL });
      await c.connect();
      const now = Date.now();
      for (let from = 0; from < EVENTS; from += EVENTS / 10) {
        await c.query(
          `insert into webhook_events (user_id, webhook_ids, event_type, record_id, payload, created_at)
           select $1, $2, 'contacts.updated', 1 + g % 100,
                  json_build_object('type', 'contacts.updated',
                                    'data', json_build_object('record', 1 + g % 100, 'seq', g))::text,
                  $3
             from generate_series($4::int, $4::int + $5::int - 1) g`,
          [1, String(hook.id), now, from, EVENTS / 10],
        );
        await new Promise((r) => setTimeout(r, 150));
      }
      await c.end();
      await rx.waitFor(EVENTS, 60_000);
      await new Promise((r) => setTimeout(r, 500)); // a duplicate would arrive now
      expect(rx.received).toHaveLength(EVENTS);
      const ids = rx.received.map((r) => r.headers['webhook-id']);
      expect(new Set(ids).size).toBe(EVENTS);
      // both processes took part: each counted its own successful requests
      const sentBy = await Promise.all(
        servers.map(async (s) => {
          const { cookie } = await login(s.url, 'admin', ADMIN_PASSWORD);
          const body = await (await fetch(`${s.url}/metrics`, { headers: { cookie } })).text();
          return Number(/rapport_webhook_attempts_total\{result="succeeded"\} (\d+)/.exec(body)?.[1]);
        }),
      );
      expect(
        sentBy.every((n) => n > 0),
        `sent by each process: ${sentBy.join(', ')}`,
      ).toBe(true);
      expect(sentBy[0]! + sentBy[1]!).toBe(EVENTS);
      const wh = new Webhook(hook.secret);
      const last = new Map<number, number>();
      for (const r of rx.received) {
        const { data } = wh.verify(r.body, r.headers) as { data: { record: number; seq: number } };
        expect(data.seq).toBeGreaterThan(last.get(data.record) ?? -1);
        last.set(data.record, data.seq);
      }
    } finally {
      for (const s of servers) await s.stop();
      await rx.stop();
      await db.cleanup();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  }, 150_000);
});
