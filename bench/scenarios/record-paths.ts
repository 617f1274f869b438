import { createHash } from 'node:crypto';
import path from 'node:path';
import { buildBaseline } from '../baseline-build.js';
import { type LoadResult, load, ROOT, type Scenario, signIn, startNode, startRapport } from '../lib.js';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');
const DURATION = 8;

async function json(url: string, init: RequestInit = {}) {
  const res = await fetch(url, init);
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${url}: ${res.status} ${await res.text()}`);
  return res.json() as Promise<Record<string, unknown>>;
}

async function ws(url: string, params: Record<string, string>, post = false) {
  const body = new URLSearchParams(params);
  const r = (await json(
    post ? `${url}/webservice.php` : `${url}/webservice.php?${body}`,
    post ? { method: 'POST', body } : {},
  )) as {
    success: boolean;
    result: Record<string, string>;
  };
  if (!r.success) throw new Error(`webservice ${params.operation} failed: ${JSON.stringify(r)}`);
  return r.result;
}

/** The record paths on one build: REST read, create and update, web-service retrieve and query. */
async function measure(root: string): Promise<Record<string, LoadResult>> {
  const rapport = await startRapport({}, root);
  const pid = rapport.child.pid!;
  try {
    const session = await signIn(rapport.url, 'admin', rapport.adminPassword);
    const { accessKey } = (await json(`${rapport.url}/api/v1/users/me/access-key`, {
      headers: { cookie: session.cookie },
    })) as { accessKey: string };
    const bearer = { authorization: `Bearer ${accessKey}` };
    const { token } = await ws(rapport.url, { operation: 'getchallenge', username: 'admin' });
    const { sessionName } = await ws(
      rapport.url,
      { operation: 'login', username: 'admin', accessKey: md5(token! + accessKey) },
      true,
    );
    const ids: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const rec = await json(`${rapport.url}/api/v1/records/Contacts`, {
        method: 'POST',
        headers: { ...bearer, 'content-type': 'application/json' },
        body: JSON.stringify({ lastname: `Bench ${i}`, firstname: 'Ada', email: `c${i}@example.com` }),
      });
      ids.push(rec.id as number);
    }
    const id = ids[500]!;
    const api = `${rapport.url}/api/v1`;
    const read = await load(`${api}/records/Contacts/${id}`, { headers: bearer, duration: DURATION, pid });
    const create = await load(`${api}/records/Contacts`, {
      method: 'POST',
      headers: { ...bearer, 'content-type': 'application/json' },
      body: JSON.stringify({ lastname: 'Created', firstname: 'Bench', email: 'created@example.com' }),
      duration: DURATION,
      pid,
    });
    // every update changes a field of a contact no other request in flight is updating, sending the version
    // its last update returned (REST updates are optimistic), so each writes history and an event. autocannon
    // resets its per-connection context after every request, so the contacts wait in a queue instead.
    const free = ids.map((id) => ({ id, version: 1 }));
    let n = 0;
    const update = await load(`${api}/records/Contacts/${id}`, {
      method: 'PATCH',
      headers: { ...bearer, 'content-type': 'application/json' },
      duration: DURATION,
      pid,
      requests: [
        {
          setupRequest: (req) => {
            const rec = free.shift()!;
            return {
              ...req,
              path: `/api/v1/records/Contacts/${rec.id}`,
              body: JSON.stringify({ firstname: `Ada ${++n}`, version: rec.version }),
            };
          },
          onResponse: (status, body) => {
            if (status === 200) free.push(JSON.parse(body) as { id: number; version: number });
          },
        },
      ],
    });
    const q = (params: Record<string, string>) =>
      `${rapport.url}/webservice.php?${new URLSearchParams({ sessionName: sessionName!, ...params })}`;
    const retrieve = await load(q({ operation: 'retrieve', id: `12x${id}` }), { duration: DURATION, pid });
    const query = await load(q({ operation: 'query', query: 'SELECT * FROM Contacts LIMIT 10;' }), {
      duration: DURATION,
      pid,
    });
    return { read, create, update, retrieve, query };
  } finally {
    await rapport.stop();
  }
}

const summary = (r: LoadResult) => ({
  rps: r.requestsPerSecond,
  p50: r.latencyMs.p50,
  p99: r.latencyMs.p99,
  non2xx: r.non2xx,
  cpuMsPerRequest: r.cpuMsPerRequest,
});

/**
 * Issue 9's guard: the record read and write paths must not get slower. Measures REST record read, create and
 * update (Bearer key, SQLite), web-service retrieve and query on this build and, with `BENCH_BASELINE_REF=<commit>`,
 * on that commit too, alternating the two builds so machine noise hits both alike. Targets: reads within 5 %,
 * writes within 15 % (history and events are new work on every write), judged on the best req/s of each build
 * and, less disturbed by other load on the machine, on the server's mean CPU time per request.
 */
export const recordPaths: Scenario = {
  name: 'record-paths',
  description:
    'REST read/create/update and web-service retrieve/query, this build vs BENCH_BASELINE_REF, 50 connections',
  async run() {
    const hello = await startNode([path.join(ROOT, 'bench/scenarios/hello-world.mjs')], {});
    const helloWorld = await load(`${hello.url}/hello`, { duration: DURATION }).finally(() => hello.stop());
    const ref = process.env.BENCH_BASELINE_REF;
    const baseline = ref ? buildBaseline(ref) : null;
    try {
      const runs: Array<{ build: string; result: Record<string, LoadResult> }> = [];
      for (let round = 0; round < 2; round++) {
        if (baseline) runs.push({ build: ref!, result: await measure(baseline.root) });
        runs.push({ build: 'this', result: await measure(ROOT) });
      }
      const best = (build: string, path: string) =>
        Math.max(...runs.filter((r) => r.build === build).map((r) => r.result[path]!.requestsPerSecond));
      // a path whose requests failed measured errors, not the path
      const answered = (path: string) => runs.every((r) => r.result[path]!.non2xx === 0);
      const paths = ['read', 'create', 'update', 'retrieve', 'query'];
      // capacity from the server's CPU per request (mean of the rounds): other load on the machine moves
      // req/s by 2x, CPU time per request much less
      const cpu = (build: string, path: string) => {
        const xs = runs.filter((r) => r.build === build).map((r) => r.result[path]!.cpuMsPerRequest!);
        return xs.reduce((a, b) => a + b, 0) / xs.length;
      };
      const cpuChange = baseline
        ? Object.fromEntries(paths.map((p) => [p, Number((cpu(ref!, p) / cpu('this', p)).toFixed(3))]))
        : null;
      const change = baseline
        ? Object.fromEntries(paths.map((p) => [p, Number((best('this', p) / best(ref!, p)).toFixed(3))]))
        : null;
      const allowed: Record<string, number> = {
        read: 0.95,
        create: 0.85,
        update: 0.85,
        retrieve: 0.95,
        query: 0.95,
      };
      return {
        helloWorld: summary(helloWorld),
        baselineRef: ref ?? null,
        runs: runs.map((r) => ({
          build: r.build,
          ...Object.fromEntries(paths.map((p) => [p, summary(r.result[p]!)])),
        })),
        thisVsBaseline: change,
        thisVsBaselineByCpu: cpuChange,
        targets: allowed,
        verdict: change
          ? Object.fromEntries(
              paths.map((p) => [p, change[p]! >= allowed[p]! && answered(p) ? 'PASS' : 'FAIL']),
            )
          : 'no baseline (set BENCH_BASELINE_REF)',
        verdictByCpu: cpuChange
          ? Object.fromEntries(
              paths.map((p) => [p, cpuChange[p]! >= allowed[p]! && answered(p) ? 'PASS' : 'FAIL']),
            )
          : null,
      };
    } finally {
      baseline?.remove();
    }
  },
};
