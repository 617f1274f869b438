import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { missingWrites, WriteStream } from './chaos-kit.js';
import { type RunningServer, startServer } from './process.js';
import { keyOf, signIn, wsLogin } from './replica-kit.js';

const ADMIN_PASSWORD = 'chaos-admin-password';

/**
 * `kill -9` chaos on SQLite (issue 14): one process, killed with SIGKILL and restarted three times while a
 * client streams acknowledged writes (REST and web services). Writes fail while it is down; every write
 * the client saw acknowledged is there after each restart (WAL, synchronous=NORMAL: a committed
 * transaction survives the death of the process).
 */
describe('kill -9 chaos: one SQLite process', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'rapport-chaos-'));
  let server: RunningServer | undefined;
  afterAll(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps every acknowledged write across three kill -9 and restarts', async () => {
    const env = { DATA_DIR: dataDir, RAPPORT_ADMIN_PASSWORD: ADMIN_PASSWORD, LOG_REQUESTS: 'false' };
    server = await startServer(env);
    const port = new URL(server.url).port;
    const url = server.url;
    const admin = (await signIn(url, 'admin', ADMIN_PASSWORD)).session;
    const key = await keyOf(url, admin, admin.userId);
    const sessionName = await wsLogin(url, 'admin', key);
    const stream = new WriteStream(() => url, key, sessionName);
    stream.start(3);
    try {
      for (let cycle = 0; cycle < 3; cycle++) {
        await new Promise((r) => setTimeout(r, 1500));
        const victim = server;
        victim.child.kill('SIGKILL');
        await new Promise((r) => victim.child.once('exit', r));
        server = await startServer({ ...env, PORT: port });
      }
      await new Promise((r) => setTimeout(r, 1500));
    } finally {
      await stream.stop();
    }
    console.log(
      `[chaos-sqlite] acknowledged ${stream.acked.length} writes (${stream.acked.filter((a) => a.via === 'ws').length} via web services), ` +
        `${stream.unacknowledged} not acknowledged while the process was down`,
    );
    expect(stream.acked.filter((a) => a.via === 'ws').length).toBeGreaterThan(10);
    expect(stream.unacknowledged).toBeGreaterThan(0);
    expect(await missingWrites(url, key, stream.acked)).toEqual([]);
  }, 90_000);
});
