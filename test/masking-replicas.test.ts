import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DIALECTS } from './harness.js';
import { login, startServer } from './process.js';
import { databaseEnv } from './process-databases.js';

const ADMIN_PASSWORD = 'masking-replica-admin-password';

/**
 * Issue 10: a masking rule saved through one Rapport process applies on every other process on the same
 * PostgreSQL within 1 s (each process holds the rules in its permission cache for at most AUTH_CACHE_TTL_MS),
 * and on the process that saved it at once. Real processes, real HTTP.
 */
describe.runIf(DIALECTS.includes('postgres'))('masking rules across two processes on one PostgreSQL', () => {
  it('a rule created, changed or deleted through one process applies on the other within 1 s', async () => {
    const db = await databaseEnv('postgres');
    const shared = {
      RAPPORT_SECRET_KEY: randomBytes(32).toString('hex'),
      RAPPORT_ADMIN_PASSWORD: ADMIN_PASSWORD,
    };
    const a = await startServer({ ...db.env, ...shared });
    const dirB = mkdtempSync(path.join(tmpdir(), 'rapport-b-'));
    const b = await startServer({ ...db.env, ...shared, DATA_DIR: dirB });
    try {
      const session = await login(a.url, 'admin', ADMIN_PASSWORD);
      const headers = { cookie: session.cookie, 'x-csrf-token': session.csrfToken };
      const call = async (base: string, method: string, path: string, body?: unknown) => {
        const res = await fetch(`${base}/api/v1${path}`, {
          method,
          headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        });
        const text = await res.text();
        if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
        return text ? (JSON.parse(text) as Record<string, unknown>) : {};
      };
      const contact = await call(a.url, 'POST', '/records/Contacts', {
        lastname: 'Replica',
        mobile: '+1 555-987-6543',
      });
      const mobileVia = async (base: string) =>
        (await call(base, 'GET', `/records/Contacts/${contact.id}`)).mobile;
      /** how long until `base` shows `want` (fails after 2 s) */
      const until = async (base: string, want: string, since: number) => {
        let got = await mobileVia(base);
        while (got !== want && Date.now() - since < 2000) got = await mobileVia(base);
        expect(got).toBe(want);
        return Date.now() - since;
      };
      const RAW = '+1 555-987-6543';
      const MASKED = '+* ***-***-6543';
      expect(await mobileVia(b.url)).toBe(RAW);

      // created through A: masked on A at once, on B within 1 s (admins are masked too)
      const rule = await call(a.url, 'POST', '/masking/rules', {
        module: 'Contacts',
        field: 'mobile',
        level: 'module',
      });
      let t = Date.now();
      expect(await mobileVia(a.url)).toBe(MASKED);
      expect(await until(b.url, MASKED, t)).toBeLessThan(1000);

      // changed through B to a role the admin does not have: unmasked on B at once, on A within 1 s
      const roles = (await call(b.url, 'GET', '/roles')) as { items: Array<{ id: number; name: string }> };
      const agent = roles.items.find((r) => r.name === 'Support Agent')!;
      await call(b.url, 'PATCH', `/masking/rules/${rule.id}`, { level: 'role', roleIds: [agent.id] });
      t = Date.now();
      expect(await mobileVia(b.url)).toBe(RAW);
      expect(await until(a.url, RAW, t)).toBeLessThan(1000);

      // back to every user through A, then deleted through B
      await call(a.url, 'PATCH', `/masking/rules/${rule.id}`, { level: 'module' });
      t = Date.now();
      expect(await until(b.url, MASKED, t)).toBeLessThan(1000);
      await call(b.url, 'DELETE', `/masking/rules/${rule.id}`);
      t = Date.now();
      expect(await until(a.url, RAW, t)).toBeLessThan(1000);
    } finally {
      await a.stop();
      await b.stop();
      await db.cleanup();
      rmSync(dirB, { recursive: true, force: true });
    }
  }, 180_000);
});
