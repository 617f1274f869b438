import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DIALECTS, PG_URL } from './harness.js';
import { login, startServer } from './process.js';
import { scratchDatabase } from './scratch-database.js';

const ADMIN_PASSWORD = 'replica-test-admin-password';

// Several Rapport processes behind a load balancer share one PostgreSQL: a key regenerated through one
// must be refused by every other within 1 s. A replica caches a key lookup for at most AUTH_CACHE_TTL_MS
// and drops it sooner when the change's NOTIFY arrives (timed in test/scale-out.test.ts).
describe.runIf(DIALECTS.includes('postgres'))('two replicas on one PostgreSQL', () => {
  it('a key regenerated through one replica is refused at once by it and within 1 s by the other', async () => {
    const db = await scratchDatabase(PG_URL, 'rapport_replicas');
    const dirs = [
      mkdtempSync(path.join(tmpdir(), 'rapport-a-')),
      mkdtempSync(path.join(tmpdir(), 'rapport-b-')),
    ];
    const shared = {
      DATABASE_URL: db.url,
      RAPPORT_SECRET_KEY: randomBytes(32).toString('hex'),
      RAPPORT_ADMIN_PASSWORD: ADMIN_PASSWORD,
    };
    const a = await startServer({ ...shared, DATA_DIR: dirs[0]! });
    const b = await startServer({ ...shared, DATA_DIR: dirs[1]! });
    try {
      const session = await login(a.url, 'admin', ADMIN_PASSWORD);
      const keyRes = await fetch(`${a.url}/api/v1/users/me/access-key`, {
        headers: { cookie: session.cookie },
      });
      const oldKey = ((await keyRes.json()) as { accessKey: string }).accessKey;
      const viaB = (key: string) =>
        fetch(`${b.url}/api/v1/me`, { headers: { authorization: `Bearer ${key}` } });
      expect((await viaB(oldKey)).status).toBe(200);

      const regen = await fetch(`${a.url}/api/v1/users/me/access-key/regenerate`, {
        method: 'POST',
        headers: { cookie: session.cookie, 'x-csrf-token': session.csrfToken },
      });
      expect(regen.status).toBe(200);
      const regeneratedAt = Date.now();
      const newKey = ((await regen.json()) as { accessKey: string }).accessKey;

      // the replica that did the change refuses the old key at once
      const viaA = await fetch(`${a.url}/api/v1/me`, { headers: { authorization: `Bearer ${oldKey}` } });
      expect(viaA.status).toBe(401);
      // the other replica may serve its cached lookup for at most AUTH_CACHE_TTL_MS (500 ms)
      let status = 200;
      // when the refusing request was sent, not when its answer came: a loaded machine's slow answer is not
      // the replica serving the old key longer
      let refusedSentAt = 0;
      while (status === 200 && Date.now() - regeneratedAt < 2000) {
        refusedSentAt = Date.now();
        status = (await viaB(oldKey)).status;
      }
      expect(status).toBe(401);
      expect(refusedSentAt - regeneratedAt).toBeLessThan(1000);
      expect((await viaB(newKey)).status).toBe(200);
    } finally {
      await a.stop();
      await b.stop();
      await db.drop();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  });
});
