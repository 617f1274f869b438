import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DIALECTS } from './harness.js';
import { login, runCli, startServer } from './process.js';
import { databaseEnv } from './process-databases.js';

const ADMIN_PASSWORD = 'process-test-admin-password';

describe.each(DIALECTS)('the rapport process [%s]', (dialect) => {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of cleanups) await c();
  });

  it('serves, creates the admin, keeps data across a restart, and stops cleanly on SIGTERM', async () => {
    const { env, cleanup } = await databaseEnv(dialect);
    cleanups.push(cleanup);
    const first = await startServer({ ...env, RAPPORT_ADMIN_PASSWORD: ADMIN_PASSWORD });
    try {
      const admin = await login(first.url, 'admin', ADMIN_PASSWORD);
      expect(admin.status).toBe(200);
      const created = await fetch(`${first.url}/api/v1/users`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          cookie: admin.cookie,
          'x-csrf-token': admin.csrfToken,
        },
        body: JSON.stringify({
          username: 'sam',
          password: 'sam-has-a-long-password',
          lastName: 'Spade',
          email: 'sam@example.com',
        }),
      });
      expect(created.status).toBe(201);
      expect((await login(first.url, 'sam', 'sam-has-a-long-password')).status).toBe(200);
      expect((await login(first.url, 'sam', 'not-sams-password-at-all')).status).toBe(401);
    } finally {
      expect(await first.stop('SIGTERM')).toBe(0);
    }
    const log = first.output();
    expect(log).toContain('"msg":"shutting down: finishing in-flight requests"');
    expect(log).not.toContain(ADMIN_PASSWORD);
    expect(log).not.toContain('sam-has-a-long-password');
    expect(log).not.toContain('not-sams-password-at-all');

    const second = await startServer(env);
    try {
      expect((await login(second.url, 'sam', 'sam-has-a-long-password')).status).toBe(200);
      expect((await login(second.url, 'admin', ADMIN_PASSWORD)).status).toBe(200);
    } finally {
      await second.stop();
    }
  });

  it('prints a generated admin password exactly once when none is configured', async () => {
    const { env, cleanup } = await databaseEnv(dialect);
    cleanups.push(cleanup);
    const first = await startServer(env);
    const match = /password: (\S+)/.exec(first.output());
    await first.stop();
    expect(match).not.toBeNull();
    const second = await startServer(env);
    try {
      expect(second.output()).not.toMatch(/password: /);
      expect((await login(second.url, 'admin', match![1]!)).status).toBe(200);
    } finally {
      await second.stop();
    }
  });
});

describe('the rapport CLI', () => {
  it('stops with a message that names a bad variable', () => {
    const res = runCli(['serve'], { PORT: 'eighty', DATA_DIR: tmpdir() });
    expect(res.status).toBe(2);
    expect(res.stderr).toContain('PORT');
  });

  it('migrates, creates an admin and resets a password (which ends sessions)', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'rapport-cli-'));
    try {
      const env = { DATA_DIR: dataDir };
      const migrate = runCli(['migrate'], env);
      expect(migrate.status, migrate.stderr).toBe(0);
      expect(migrate.stdout).toContain('0001-foundation');
      const create = runCli(
        ['create-admin', '--username', 'ops', '--email', 'ops@example.com', '--password-stdin'],
        env,
        'ops-long-password-123\n',
      );
      expect(create.status, create.stderr).toBe(0);
      const server = await startServer(env);
      try {
        const s = await login(server.url, 'ops', 'ops-long-password-123');
        expect(s.status).toBe(200);
        const reset = runCli(['reset-password', 'ops'], env);
        expect(reset.status, reset.stderr).toBe(0);
        const newPassword = /New password \(shown once\): (\S+)/.exec(reset.stdout)![1]!;
        const me = await fetch(`${server.url}/api/v1/me`, { headers: { cookie: s.cookie } });
        expect(me.status).toBe(401);
        expect((await login(server.url, 'ops', newPassword)).status).toBe(200);
      } finally {
        await server.stop();
      }
      expect(runCli(['reset-password', 'nobody'], env).status).not.toBe(0);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
