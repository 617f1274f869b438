import { createHash } from 'node:crypto';
import { type LoadResult, type Scenario, signIn, startRapport } from '../lib.js';
import { wrk } from '../wrk.js';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');
const DURATION = Number(process.env.BENCH_DURATION ?? 4);

async function json(url: string, init: RequestInit = {}) {
  const res = await fetch(url, init);
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${url}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? {} : (res.json() as Promise<Record<string, unknown>>);
}

const summary = (r: LoadResult) => ({
  rps: r.requestsPerSecond,
  p50: r.latencyMs.p50,
  p99: r.latencyMs.p99,
  non2xx: r.non2xx,
});

/**
 * Issue 10's guard: REST list of 100 records and a web-service query of 100 records, with no masking rule
 * and with 3 module-level rules masking fields of every record (admins are masked too), on one server in
 * the same run, alternating twice. Target: masking costs at most 10 % of throughput.
 */
export const masking: Scenario = {
  name: 'masking',
  description: 'REST list 100 and WS query 100, no rules vs 3 masked fields, 50 connections',
  async run() {
    const rapport = await startRapport();
    try {
      const session = await signIn(rapport.url, 'admin', rapport.adminPassword);
      const cookie = { cookie: session.cookie, 'x-csrf-token': session.csrfToken };
      const { accessKey } = (await json(`${rapport.url}/api/v1/users/me/access-key`, {
        headers: cookie,
      })) as {
        accessKey: string;
      };
      const bearer = { authorization: `Bearer ${accessKey}` };
      const wsGet = async (p: Record<string, string>) =>
        (
          (await json(`${rapport.url}/webservice.php?${new URLSearchParams(p)}`)) as {
            result: Record<string, string>;
          }
        ).result;
      const { token } = await wsGet({ operation: 'getchallenge', username: 'admin' });
      const login = (await json(`${rapport.url}/webservice.php`, {
        method: 'POST',
        body: new URLSearchParams({
          operation: 'login',
          username: 'admin',
          accessKey: md5(token! + accessKey),
        }),
      })) as { result: { sessionName: string } };
      for (let i = 0; i < 100; i++)
        await json(`${rapport.url}/api/v1/records/Contacts`, {
          method: 'POST',
          headers: { ...bearer, 'content-type': 'application/json' },
          body: JSON.stringify({
            lastname: `Bench ${i}`,
            firstname: 'Ada',
            email: `ada.${i}@example.com`,
            phone: `+1 555-010-${String(1000 + i)}`,
            title: `Head of Department ${i}`,
          }),
        });
      const list = `${rapport.url}/api/v1/records/Contacts?limit=100`;
      const query = `${rapport.url}/webservice.php?${new URLSearchParams({
        operation: 'query',
        sessionName: login.result.sessionName,
        query: 'SELECT * FROM Contacts LIMIT 100;',
      })}`;
      const rules: number[] = [];
      const runs: Array<{ rules: number; list: LoadResult; query: LoadResult }> = [];
      for (let round = 0; round < Number(process.env.BENCH_ROUNDS ?? 2); round++) {
        for (const withRules of [false, true]) {
          if (withRules)
            for (const field of ['phone', 'email', 'title']) {
              const r = await json(`${rapport.url}/api/v1/masking/rules`, {
                method: 'POST',
                headers: { ...cookie, 'content-type': 'application/json' },
                body: JSON.stringify({ module: 'Contacts', field, level: 'module' }),
              });
              rules.push((r as { id: number }).id);
            }
          else
            while (rules.length)
              await json(`${rapport.url}/api/v1/masking/rules/${rules.pop()}`, {
                method: 'DELETE',
                headers: cookie,
              });
          runs.push({
            rules: rules.length,
            list: await wrk(list, { headers: bearer, duration: DURATION }),
            query: await wrk(query, { duration: DURATION }),
          });
        }
      }
      const best = (n: number, k: 'list' | 'query') =>
        Math.max(...runs.filter((r) => r.rules > 0 === n > 0).map((r) => r[k].requestsPerSecond));
      const ratio = { list: best(3, 'list') / best(0, 'list'), query: best(3, 'query') / best(0, 'query') };
      return {
        runs: runs.map((r) => ({ maskedFields: r.rules, list: summary(r.list), query: summary(r.query) })),
        maskedVsUnmasked: { list: Number(ratio.list.toFixed(3)), query: Number(ratio.query.toFixed(3)) },
        target: 0.9,
        verdict: { list: ratio.list >= 0.9 ? 'PASS' : 'FAIL', query: ratio.query >= 0.9 ? 'PASS' : 'FAIL' },
      };
    } finally {
      await rapport.stop();
    }
  },
};
