import { randomBytes } from 'node:crypto';
import { percentile, type Scenario, signIn, startRapport } from '../lib.js';
import { postgresEnv } from './performance.js';

/** regenerations measured (REVOCATION_BENCH_TRIALS, default 100) */
const TRIALS = Number(process.env.REVOCATION_BENCH_TRIALS ?? 100);
const TARGET_P99_MS = 100;
/** a stale entry without NOTIFY lives this long at most: the cache's TTL */
const TTL_MS = 500;

/**
 * Issue 14's revocation target, measured here rather than asserted in a test (a timed bound in a test times
 * the machine): two Rapport processes on one PostgreSQL database; a key regenerated through one is refused
 * by the other within 100 ms at p99. Polls of the auth version are off, so only NOTIFY (or, failing it, the
 * 500 ms TTL) can make the other process forget the old key. `lag`: from the regeneration's answer to the
 * sending of the first request the other process refused, polling it back to back with the old key.
 */
export const revocation: Scenario = {
  name: 'revocation',
  description: `a key regenerated through one process is refused by another on the same PostgreSQL (LISTEN/NOTIFY), ${TRIALS} trials, p99 ≤ ${TARGET_P99_MS} ms`,
  async run() {
    const pg = await postgresEnv();
    if (!pg) return { result: 'NOT RUN', reason: 'no PostgreSQL (RAPPORT_BENCH_DATABASE_URL)' };
    const env = {
      ...pg.env,
      RAPPORT_SECRET_KEY: randomBytes(32).toString('hex'),
      AUTH_CACHE_TTL_MS: String(TTL_MS),
      AUTH_VERSION_POLL_MS: '60000',
      // each trial ends in refusals of the old key: from an address of its own, under the failure limit
      TRUST_PROXY: '127.0.0.1',
    };
    const a = await startRapport(env);
    const b = await startRapport(env).catch(async (err: unknown) => {
      await a.stop();
      throw err;
    });
    try {
      const admin = await signIn(a.url, 'admin', a.adminPassword);
      const asAdmin = { cookie: admin.cookie, 'x-csrf-token': admin.csrfToken };
      const me = (
        (await (await fetch(`${a.url}/api/v1/me`, { headers: asAdmin })).json()) as { user: { id: number } }
      ).user;
      const regenerate = async () => {
        const res = await fetch(`${a.url}/api/v1/users/${me.id}/access-key/regenerate`, {
          method: 'POST',
          headers: { ...asAdmin, 'content-type': 'application/json' },
          body: '{}',
        });
        if (res.status !== 200) throw new Error(`regenerate: ${res.status} ${await res.text()}`);
        return ((await res.json()) as { accessKey: string }).accessKey;
      };
      const meOnB = async (key: string, ip: string) => {
        const res = await fetch(`${b.url}/api/v1/me`, {
          headers: { authorization: `Bearer ${key}`, 'x-forwarded-for': ip },
        });
        await res.arrayBuffer();
        if (res.status !== 200 && res.status !== 401) throw new Error(`GET /api/v1/me: ${res.status}`);
        return res.status === 200;
      };
      let key = await regenerate();
      const lags: number[] = [];
      for (let i = 0; i < TRIALS; i++) {
        const ip = `10.77.${i >> 8}.${i & 255}`;
        if (!(await meOnB(key, ip))) throw new Error('the other process refused a current key');
        const next = await regenerate();
        const at = performance.now();
        for (;;) {
          const sent = performance.now();
          if (!(await meOnB(key, ip))) {
            lags.push(sent - at);
            break;
          }
          if (sent - at > 5_000) throw new Error('the old key was still accepted after 5 s');
        }
        key = next;
      }
      const lagMs = {
        p50: Number(percentile(lags, 50).toFixed(1)),
        p99: Number(percentile(lags, 99).toFixed(1)),
        max: Number(Math.max(...lags).toFixed(1)),
        trials: lags.length,
      };
      const verdict = lagMs.p99 <= TARGET_P99_MS ? 'PASS' : 'FAIL';
      process.stdout.write(
        `${verdict.padEnd(7)} postgres: old key refused by the other process, p99 ≤ ${TARGET_P99_MS} ms: ${lagMs.p99} (p50 ${lagMs.p50}, max ${lagMs.max})\n`,
      );
      return { lagMs, ttlMs: TTL_MS, target: { p99Ms: TARGET_P99_MS }, result: verdict };
    } finally {
      await b.stop();
      await a.stop();
      await pg.drop();
    }
  },
};
