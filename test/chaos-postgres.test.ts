import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingWrites, WriteStream } from './chaos-kit.js';
import { DIALECTS } from './harness.js';
import { HAVE_NGINX, type Nginx, startNginx } from './nginx.js';
import { freshDatabase, keyOf, Replicas, type Session, signIn, wsLogin } from './replica-kit.js';

const ADMIN_PASSWORD = 'chaos-admin-password';

/**
 * `kill -9` chaos on PostgreSQL (issue 14): a client streams acknowledged writes (REST and web services)
 * through nginx while replicas are killed with SIGKILL and restarted, one after another, three times.
 * The other replicas take over; every write the client saw acknowledged is in the database afterwards.
 */
describe.runIf(DIALECTS.includes('postgres') && HAVE_NGINX)(
  'kill -9 chaos: three replicas behind nginx',
  () => {
    let db: Awaited<ReturnType<typeof freshDatabase>>;
    let replicas: Replicas;
    let lb: Nginx;
    let admin: Session;

    beforeAll(async () => {
      db = await freshDatabase();
      replicas = new Replicas({
        DATABASE_URL: db.url,
        RAPPORT_SECRET_KEY: randomBytes(32).toString('hex'),
        RAPPORT_ADMIN_PASSWORD: ADMIN_PASSWORD,
        TRUST_PROXY: '127.0.0.1',
        LOG_REQUESTS: 'false',
      });
      const r = await replicas.start(3);
      lb = await startNginx(r.map((s) => s.url));
      admin = (await signIn(lb.url, 'admin', ADMIN_PASSWORD)).session;
    }, 90_000);

    afterAll(async () => {
      await lb?.stop();
      await replicas?.stopAll();
      await db?.drop();
    });

    it('keeps every acknowledged write while replicas are killed and restarted three times', async () => {
      const key = await keyOf(lb.url, admin, admin.userId);
      const sessionName = await wsLogin(lb.url, 'admin', key);
      const stream = new WriteStream(() => lb.url, key, sessionName);
      stream.start(3);
      const duringOutage: number[] = [];
      // kills overlap restarts (a restart compiles for several seconds), but never leave no replica running
      const restarts: Promise<unknown>[] = [];
      try {
        for (let cycle = 0; cycle < 3; cycle++) {
          await new Promise((r) => setTimeout(r, 1000));
          if (cycle === 2) await restarts[0];
          const victim = replicas.servers[cycle]!;
          victim.child.kill('SIGKILL');
          await new Promise((r) => victim.child.once('exit', r));
          const downAt = Date.now();
          restarts.push(replicas.restart(cycle));
          // the others answer while this one is gone (a replica that has just restarted may be slow at first)
          const waitUntil = Date.now() + 15_000;
          while (stream.ackedSince(downAt) < 5 && Date.now() < waitUntil)
            await new Promise((r) => setTimeout(r, 50));
          duringOutage.push(stream.ackedSince(downAt));
        }
        await Promise.all(restarts);
        await new Promise((r) => setTimeout(r, 1000));
      } finally {
        await stream.stop();
      }
      console.log(
        `[chaos-postgres] acknowledged ${stream.acked.length} writes (${stream.acked.filter((a) => a.via === 'ws').length} via web services), ` +
          `${stream.unacknowledged} not acknowledged, during outages: ${duringOutage.join(', ')}`,
      );
      expect(duringOutage.every((n) => n > 0)).toBe(true);
      expect(stream.acked.filter((a) => a.via === 'ws').length).toBeGreaterThan(10);
      expect(await missingWrites(lb.url, key, stream.acked)).toEqual([]);
      // the restarted replicas serve again
      for (const s of replicas.servers) expect((await fetch(`${s.url}/readyz`)).status).toBe(200);
    }, 90_000);
  },
);
