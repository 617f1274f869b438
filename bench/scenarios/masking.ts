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
 * the same run, in four rounds (ABBA). Target: masking costs at most 10 % of throughput (the median round).
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
      // ABBA: each round's pair runs in the other order than the round before, so a machine speeding up or
      // slowing down during the run (and the order itself) weighs on both sides alike
      for (let round = 0; round < Number(process.env.BENCH_ROUNDS ?? 4); round++) {
        for (const withRules of round % 2 === 0 ? [false, true] : [true, false]) {
          if (!withRules)
            while (rules.length)
              await json(`${rapport.url}/api/v1/masking/rules/${rules.pop()}`, {
                method: 'DELETE',
                headers: cookie,
              });
          else if (rules.length === 0)
            for (const field of ['phone', 'email', 'title']) {
              const r = await json(`${rapport.url}/api/v1/masking/rules`, {
                method: 'POST',
                headers: { ...cookie, 'content-type': 'application/json' },
                body: JSON.stringify({ module: 'Contacts', field, level: 'module' }),
              });
              rules.push((r as { id: number }).id);
            }
          runs.push({
            rules: rules.length,
            list: await wrk(list, { headers: bearer, duration: DURATION }),
            query: await wrk(query, { duration: DURATION }),
          });
        }
      }
      // per round, masked against unmasked measured next to it; the median round is the figure
      const pairRatios = (k: 'list' | 'query') =>
        Array.from({ length: runs.length / 2 }, (_, i) => {
          const pair = runs.slice(2 * i, 2 * i + 2);
          const masked = pair.find((r) => r.rules > 0)!;
          const plain = pair.find((r) => r.rules === 0)!;
          return masked[k].requestsPerSecond / plain[k].requestsPerSecond;
        });
      const median = (xs: number[]) => {
        const s = [...xs].sort((a, b) => a - b);
        return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
      };
      const pairs = { list: pairRatios('list'), query: pairRatios('query') };
      const ratio = { list: median(pairs.list), query: median(pairs.query) };
      const round3 = (x: number) => Number(x.toFixed(3));
      return {
        runs: runs.map((r) => ({ maskedFields: r.rules, list: summary(r.list), query: summary(r.query) })),
        pairRatios: { list: pairs.list.map(round3), query: pairs.query.map(round3) },
        maskedVsUnmasked: { list: round3(ratio.list), query: round3(ratio.query) },
        target: 0.9,
        verdict: { list: ratio.list >= 0.9 ? 'PASS' : 'FAIL', query: ratio.query >= 0.9 ? 'PASS' : 'FAIL' },
      };
    } finally {
      await rapport.stop();
    }
  },
};
