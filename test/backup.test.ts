import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { login, runCli, runCliAsync, startServer } from './process.js';

const ADMIN_PASSWORD = 'backup-test-admin-password';

describe('rapport backup / restore (SQLite)', () => {
  const dirs: string[] = [];
  const dir = (name: string) => {
    const d = mkdtempSync(path.join(tmpdir(), `rapport-${name}-`));
    dirs.push(d);
    return d;
  };
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('a backup taken under write load restores with every record acknowledged before it began', async () => {
    const dataDir = dir('live');
    const backupFile = path.join(dir('backups'), 'rapport-backup.db');
    const server = await startServer({ DATA_DIR: dataDir, RAPPORT_ADMIN_PASSWORD: ADMIN_PASSWORD });
    /** ids of acknowledged writes, in the order of their acknowledgements */
    const acked: number[] = [];
    let ackedBefore = 0;
    try {
      const admin = await login(server.url, 'admin', ADMIN_PASSWORD);
      const headers = {
        'content-type': 'application/json',
        cookie: admin.cookie,
        'x-csrf-token': admin.csrfToken,
      };
      let writing = true;
      const writer = async (n: number) => {
        for (let i = 0; writing; i++) {
          const res = await fetch(`${server.url}/api/v1/records/Contacts`, {
            method: 'POST',
            headers,
            body: JSON.stringify({ lastname: `Load ${n}-${i}` }),
          });
          if (res.status !== 201) throw new Error(`write failed: ${res.status} ${await res.text()}`);
          acked.push(((await res.json()) as { id: number }).id);
        }
      };
      const writers = [writer(1), writer(2), writer(3)];
      while (acked.length < 30) await new Promise((r) => setTimeout(r, 20));
      // by count, not by time: an acknowledgement in the backup's first millisecond carries its time too
      ackedBefore = acked.length;
      const backup = await runCliAsync(['backup', backupFile], { DATA_DIR: dataDir });
      expect(backup.status, backup.stderr).toBe(0);
      expect(backup.stdout).toMatch(/master key/);
      // writes went on while the backup ran
      const during = acked.length - ackedBefore;
      writing = false;
      await Promise.all(writers);
      expect(during).toBeGreaterThan(0);

      // restoring over the database of a running server is refused
      const busy = runCli(['restore', backupFile], { DATA_DIR: dataDir });
      expect(busy.status).toBe(1);
      expect(busy.stderr).toMatch(/still running/);
    } finally {
      await server.stop();
    }

    // restore elsewhere: without the master key that belongs to the backup it is refused
    const restored = dir('restored');
    const noKey = runCli(['restore', backupFile], { DATA_DIR: restored });
    expect(noKey.status).toBe(1);
    expect(noKey.stderr).toMatch(/master key/i);
    const wrongKey = runCli(['restore', backupFile], {
      DATA_DIR: restored,
      RAPPORT_SECRET_KEY: 'cd'.repeat(32),
    });
    expect(wrongKey.status).toBe(1);
    expect(wrongKey.stderr).toMatch(/RAPPORT_SECRET_KEY is not the master key/);
    copyFileSync(path.join(dataDir, 'secret.key'), path.join(restored, 'secret.key'));
    const restore = runCli(['restore', backupFile], { DATA_DIR: restored });
    expect(restore.status, restore.stderr).toBe(0);

    const again = await startServer({ DATA_DIR: restored });
    try {
      const admin = await login(again.url, 'admin', ADMIN_PASSWORD);
      expect(admin.status).toBe(200);
      const mustHave = acked.slice(0, ackedBefore);
      expect(mustHave.length).toBeGreaterThanOrEqual(30);
      for (const id of mustHave) {
        const res = await fetch(`${again.url}/api/v1/records/Contacts/${id}`, {
          headers: { cookie: admin.cookie },
        });
        expect(res.status, `record ${id}`).toBe(200);
      }
      // keys sealed before the backup still open: the admin's own key reveals and authenticates
      const key = await fetch(`${again.url}/api/v1/users/me/access-key`, {
        headers: { cookie: admin.cookie },
      });
      expect(key.status).toBe(200);
      const { accessKey } = (await key.json()) as { accessKey: string };
      const me = await fetch(`${again.url}/api/v1/me`, { headers: { authorization: `Bearer ${accessKey}` } });
      expect(me.status).toBe(200);
    } finally {
      await again.stop();
    }
  }, 180_000);

  it('with PostgreSQL the command points to pg_dump', () => {
    const out = runCli(['backup', '/tmp/never-written.db'], {
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
    });
    expect(out.status).toBe(1);
    expect(out.stderr).toMatch(/pg_dump/);
  });
});
