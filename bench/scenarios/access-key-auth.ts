import path from 'node:path';
import { load, ROOT, type Scenario, signIn, startNode, startRapport } from '../lib.js';

/** Issue 3's target: key-authenticated GET /api/v1/me at ≥ 50 % of a bare Fastify hello-world, p99 ≤ 10 ms. */
export const accessKeyAuth: Scenario = {
  name: 'access-key-auth',
  description:
    'GET /api/v1/me with Authorization: Bearer <accessKey> vs a bare Fastify hello-world, 50 connections',
  async run() {
    const hello = await startNode([path.join(ROOT, 'bench/scenarios/hello-world.mjs')], {});
    const baseline = await load(`${hello.url}/hello`).finally(() => hello.stop());

    const rapport = await startRapport();
    try {
      const session = await signIn(rapport.url, 'admin', rapport.adminPassword);
      const keyRes = await fetch(`${rapport.url}/api/v1/users/me/access-key`, {
        headers: { cookie: session.cookie },
      });
      const { accessKey } = (await keyRes.json()) as { accessKey: string };
      const measured = await load(`${rapport.url}/api/v1/me`, {
        headers: { authorization: `Bearer ${accessKey}` },
      });
      const ratio = Number((measured.requestsPerSecond / baseline.requestsPerSecond).toFixed(3));
      return {
        baseline: { name: 'fastify hello-world', ...baseline },
        measured: { name: 'GET /api/v1/me (Bearer key, SQLite)', ...measured },
        ratio,
        targets: { ratio: 0.5, p99Ms: 10 },
        met: ratio >= 0.5 && measured.latencyMs.p99 <= 10 && measured.non2xx === 0,
      };
    } finally {
      await rapport.stop();
    }
  },
};
