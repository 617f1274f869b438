import path from 'node:path';
import { load, ROOT, type Scenario, signIn, startNode, startRapport } from '../lib.js';

async function call(url: string, init: RequestInit & { session: { cookie: string; csrfToken: string } }) {
  const res = await fetch(url, {
    ...init,
    headers: {
      cookie: init.session.cookie,
      'x-csrf-token': init.session.csrfToken,
      ...(init.body !== undefined && { 'content-type': 'application/json' }),
    },
  });
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${url} failed: ${res.status} ${await res.text()}`);
  return res.json() as Promise<Record<string, unknown>>;
}

/**
 * PRODUCT.md's REST target: a non-admin user's key-authenticated read of one Contact (key check,
 * permissions, sharing scope, masking) at ≥ 50 % of a bare Fastify hello-world, p99 ≤ 10 ms.
 */
export const restRecordRead: Scenario = {
  name: 'rest-record-read',
  description:
    'GET /api/v1/records/Contacts/{id} as a non-admin (Bearer key, private sharing) vs a bare Fastify hello-world, 50 connections',
  async run() {
    const hello = await startNode([path.join(ROOT, 'bench/scenarios/hello-world.mjs')], {});
    const baseline = await load(`${hello.url}/hello`).finally(() => hello.stop());

    const rapport = await startRapport();
    try {
      const api = `${rapport.url}/api/v1`;
      const session = await signIn(rapport.url, 'admin', rapport.adminPassword);
      const roles = (await call(`${api}/roles`, { session })) as { items: { id: number; name: string }[] };
      const role = roles.items.find((r) => r.name === 'Sales Person') ?? roles.items.at(-1)!;
      const user = (await call(`${api}/users`, {
        method: 'POST',
        session,
        body: JSON.stringify({
          username: 'bench-rep',
          password: 'bench-rep-password-1',
          firstName: 'Bench',
          lastName: 'Rep',
          email: 'bench-rep@example.com',
          roleId: role.id,
        }),
      })) as { id: number };
      // a few records of other owners, so the sharing scope has something to exclude
      let id = 0;
      for (let i = 0; i < 200; i++) {
        const rec = (await call(`${api}/records/Contacts`, {
          method: 'POST',
          session,
          body: JSON.stringify({
            lastname: `Bench ${i}`,
            firstname: 'Ada',
            email: `c${i}@example.com`,
            assigned_user_id: i % 2 === 0 ? user.id : 1,
          }),
        })) as { id: number };
        if (i === 100) id = rec.id;
      }
      const key = (await call(`${api}/users/${user.id}/access-key`, { session })) as { accessKey: string };
      const headers = { authorization: `Bearer ${key.accessKey}` };
      const check = await fetch(`${api}/records/Contacts/${id}`, { headers });
      if (check.status !== 200) throw new Error(`record read failed: ${check.status} ${await check.text()}`);
      const hidden = await fetch(`${api}/records/Contacts/${id + 1}`, { headers });
      if (hidden.status !== 404) throw new Error(`sharing not enforced: ${hidden.status}`);

      const measured = await load(`${api}/records/Contacts/${id}`, { headers });
      const ratio = Number((measured.requestsPerSecond / baseline.requestsPerSecond).toFixed(3));
      return {
        baseline: { name: 'fastify hello-world', ...baseline },
        measured: { name: 'GET /api/v1/records/Contacts/{id} (non-admin Bearer key, SQLite)', ...measured },
        ratio,
        targets: { ratio: 0.5, p99Ms: 10 },
        met: ratio >= 0.5 && measured.latencyMs.p99 <= 10 && measured.non2xx === 0,
      };
    } finally {
      await rapport.stop();
    }
  },
};
