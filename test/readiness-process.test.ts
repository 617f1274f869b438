import { readFileSync } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { DIALECTS, PG_URL } from './harness.js';
import { login, runCli, runCliAsync, startServer } from './process.js';
import { databaseEnv } from './process-databases.js';

const ADMIN_PASSWORD = 'readiness-admin-password';
const VERSION = (
  JSON.parse(readFileSync(path.join(import.meta.dirname, '../package.json'), 'utf8')) as {
    version: string;
  }
).version;

async function readyz(url: string) {
  // a load balancer's probe gives up after a couple of seconds: so does this one
  const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) });
  return {
    status: res.status,
    body: (await res.json()) as { status: string; checks: Record<string, string> },
  };
}

async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('rapport --version', () => {
  it('prints the version from package.json, which the OpenAPI document also carries', () => {
    const out = runCli(['--version'], {});
    expect(out.status, out.stderr).toBe(0);
    expect(out.stdout.trim()).toBe(`rapport ${VERSION}`);
  });
});

describe.each(DIALECTS)('liveness and readiness of a real process [%s]', (dialect) => {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of cleanups) await c();
  });

  it('/healthz is liveness, /readyz readiness; a second process with another key refuses to start', async () => {
    const db = await databaseEnv(dialect);
    cleanups.push(db.cleanup);
    const env = { ...db.env, RAPPORT_ADMIN_PASSWORD: ADMIN_PASSWORD, LOG_FORMAT: 'json' };
    const server = await startServer({ ...env, LOG_REQUESTS: 'false' });
    try {
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      expect(await readyz(server.url)).toEqual({
        status: 200,
        body: { status: 'ready', checks: { database: 'ok', migrations: 'ok', masterKey: 'ok' } },
      });
      const doc = (await (await fetch(`${server.url}/api/openapi.json`)).json()) as {
        info: { version: string };
      };
      expect(doc.info.version).toBe(VERSION);
      expect((await login(server.url, 'admin', ADMIN_PASSWORD)).status).toBe(200);
      // LOG_REQUESTS=false: no per-request lines
      expect(server.output()).not.toMatch(/"msg":"(GET|POST) \//);

      // async: a blocked event loop would keep the client's pooled connection past its keep-alive
      const wrongKey = await runCliAsync(['serve'], {
        ...env,
        RAPPORT_SECRET_KEY: 'ab'.repeat(32),
        PORT: '0',
      });
      expect(wrongKey.status, wrongKey.stdout + wrongKey.stderr).toBe(2);
      expect(wrongKey.stderr).toMatch(/RAPPORT_SECRET_KEY/);

      if (dialect === 'postgres') {
        const name = new URL(db.env.DATABASE_URL!).pathname.slice(1);
        const admin = new pg.Client({ connectionString: PG_URL });
        await admin.connect();
        try {
          await admin.query(`alter database ${name} allow_connections false`);
          await admin.query(
            'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
            [name],
          );
          const down = await readyz(server.url);
          expect(down.status).toBe(503);
          expect(down.body.checks.database).toBe('unreachable');
          expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
          const refused = await fetch(`${server.url}/api/v1/auth/login`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
          });
          expect(refused.status).toBe(503);
          expect(refused.headers.get('retry-after')).toBe('5');
        } finally {
          await admin.query(`alter database ${name} allow_connections true`);
          await admin.end();
        }
        await eventually(
          'readiness after the database is back',
          async () => (await readyz(server.url)).status === 200,
        );
        expect((await login(server.url, 'admin', ADMIN_PASSWORD)).status).toBe(200);
        expect(server.child.exitCode).toBeNull();
        expect(server.output()).not.toContain("Unhandled 'error' event");
        // errors and warnings are still logged with LOG_REQUESTS=false
        expect(server.output()).toContain('database unavailable');
      } else {
        const file = path.join(db.env.DATA_DIR!, 'rapport.db');
        const other = new SQLite(file);
        try {
          other.prepare("update master_key_check set check_value = 'another-key' where id = 1").run();
          const mismatch = await readyz(server.url);
          expect(mismatch.status).toBe(503);
          expect(mismatch.body.checks.masterKey).toBe('mismatch');
        } finally {
          other.prepare('delete from master_key_check').run();
          other.close();
        }
      }
    } catch (err) {
      // the process's own log says why a request failed (a crash, a closed socket)
      throw new Error(`${(err as Error).message}\nserver output:\n${server.output()}`, { cause: err });
    } finally {
      await server.stop();
    }
  }, 120_000);
});
