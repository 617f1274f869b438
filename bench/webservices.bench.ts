/**
 * Web-services throughput: `retrieve` and `query` through /webservice.php on a real socket, SQLite file
 * database, 1000 Contacts, 50 connections rotating over 200 sessions (the peer's "many sessions" case,
 * see shared/reference/vtiger-peer.md: Vtiger 8.2 did ~160 retrieve/s and ~143 query/s).
 * Run: npx tsx bench/webservices.bench.ts [seconds]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
// @ts-expect-error autocannon ships no types
import autocannon from 'autocannon';
import { parseConfig } from '../src/config.js';
import { closeContext, createContext } from '../src/context.js';
import { buildApp } from '../src/http/app.js';
import { createLogger } from '../src/platform/logger.js';
import { ensureInitialAdmin } from '../src/users/bootstrap.js';
import { md5 } from '../test/ws-kit.js';
import { benchKeys } from './webservices-keys.js';

const seconds = Number(process.argv[2] ?? 10);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-wsbench-'));
const config = {
  ...parseConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent' }),
  adminPassword: 'bench-admin-password',
};
const ctx = await createContext(config, { logger: createLogger('silent') });
await ensureInitialAdmin(ctx);
const { app, keys } = await benchKeys(ctx, buildApp);
await app.listen({ port: 0, host: '127.0.0.1' });
const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;

const admin = await ctx.db.kysely
  .selectFrom('users')
  .select('id')
  .where('username', '=', 'admin')
  .executeTakeFirstOrThrow();
const key = await keys(admin.id);
async function login(): Promise<string> {
  const ch = (await (await fetch(`${base}/webservice.php?operation=getchallenge&username=admin`)).json()) as {
    result: { token: string };
  };
  const body = new URLSearchParams({
    operation: 'login',
    username: 'admin',
    accessKey: md5(ch.result.token + key),
  });
  const res = (await (await fetch(`${base}/webservice.php`, { method: 'POST', body })).json()) as {
    result: { sessionName: string };
  };
  return res.result.sessionName;
}
const sessions: string[] = [];
for (let i = 0; i < 200; i++) sessions.push(await login());
let contactId = '';
for (let i = 0; i < 1000; i++) {
  const element = JSON.stringify({ lastname: `Bench${i}`, firstname: 'Ada', email: `b${i}@example.com` });
  const body = new URLSearchParams({
    operation: 'create',
    sessionName: sessions[0]!,
    elementType: 'Contacts',
    element,
  });
  const res = (await (await fetch(`${base}/webservice.php`, { method: 'POST', body })).json()) as {
    result: { id: string };
  };
  if (i === 500) contactId = res.result.id;
}

async function run(name: string, target: (s: string) => string) {
  const requests = sessions.map((s) => ({ method: 'GET' as const, path: target(s) }));
  // the load generator runs in a worker thread so it does not share the server's event loop
  const result = await autocannon({ url: base, connections: 50, duration: seconds, requests, workers: 1 });
  const line = {
    scenario: name,
    reqPerSec: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
  };
  console.log(JSON.stringify(line));
  return line;
}
const results = [
  await run('ws retrieve', (s) => `/webservice.php?operation=retrieve&sessionName=${s}&id=${contactId}`),
  await run(
    'ws query',
    (s) =>
      `/webservice.php?operation=query&sessionName=${s}&query=${encodeURIComponent('SELECT * FROM Contacts LIMIT 10;')}`,
  ),
];
fs.mkdirSync('bench/results', { recursive: true });
fs.writeFileSync(
  `bench/results/webservices-${Date.now()}.json`,
  JSON.stringify({ at: new Date().toISOString(), results }, null, 2),
);
await app.close();
await closeContext(ctx);
fs.rmSync(dir, { recursive: true, force: true });
