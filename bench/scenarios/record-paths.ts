import { createHash } from 'node:crypto';
import path from 'node:path';
import { buildBaseline } from '../baseline-build.js';
import { type LoadResult, load, ROOT, type Scenario, signIn, startNode, startRapport } from '../lib.js';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');
/** 1 s slices per build and path */
const ROUNDS = 10;

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

type LoadOptions = NonNullable<Parameters<typeof load>[1]>;

/** One build running, seeded, with the load of each record path ready to run against it. */
interface Build {
  name: string;
  pid: number;
  paths: Record<string, { url: string; opts: LoadOptions }>;
  stop(): Promise<void>;
}

const PATHS = ['read', 'create', 'update', 'retrieve', 'query'] as const;

/** Starts `root`'s build on a fresh SQLite database with 1,000 contacts, signed in over REST and web services. */
async function prepare(name: string, root: string): Promise<Build> {
  const rapport = await startRapport({}, root);
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
    const asJson = { ...bearer, 'content-type': 'application/json' };
    // every update changes a field of a contact no other request in flight is updating, sending the version
    // its last update returned (REST updates are optimistic), so each writes history and an event. autocannon
    // resets its per-connection context after every request, so the contacts wait in a queue instead.
    const free = ids.map((id) => ({ id, version: 1 }));
    let n = 0;
    const q = (params: Record<string, string>) =>
      `${rapport.url}/webservice.php?${new URLSearchParams({ sessionName: sessionName!, ...params })}`;
    return {
      name,
      pid: rapport.child.pid!,
      stop: () => rapport.stop(),
      paths: {
        read: { url: `${api}/records/Contacts/${id}`, opts: { headers: bearer } },
        create: {
          url: `${api}/records/Contacts`,
          opts: {
            method: 'POST',
            headers: asJson,
            body: JSON.stringify({ lastname: 'Created', firstname: 'Bench', email: 'created@example.com' }),
          },
        },
        update: {
          url: `${api}/records/Contacts/${id}`,
          opts: {
            method: 'PATCH',
            headers: asJson,
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
          },
        },
        retrieve: { url: q({ operation: 'retrieve', id: `12x${id}` }), opts: {} },
        query: { url: q({ operation: 'query', query: 'SELECT * FROM Contacts LIMIT 10;' }), opts: {} },
      },
    };
  } catch (err) {
    await rapport.stop();
    throw err;
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * One path on every build, in 1 s slices taken in turn (A B, B A, A B…), so that a change in the machine's
 * other load hits each build alike: runs of a whole build one after the other scattered by ±20 % here.
 */
async function interleaved(builds: Build[], path: string): Promise<Record<string, LoadResult>> {
  const slices = new Map<string, LoadResult[]>(builds.map((b) => [b.name, []]));
  // one 2 s warm-up per build (JIT, connections, page cache), unmeasured
  for (const b of builds)
    await load(b.paths[path]!.url, { ...b.paths[path]!.opts, duration: 2, warmUp: false });
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? builds : [...builds].reverse();
    for (const b of order) {
      const { url, opts } = b.paths[path]!;
      slices.get(b.name)!.push(await load(url, { ...opts, duration: 1, warmUp: false, pid: b.pid }));
    }
  }
  return Object.fromEntries(
    builds.map((b) => {
      const xs = slices.get(b.name)!;
      const requests = xs.reduce((a, r) => a + r.requests, 0);
      const seconds = xs.reduce((a, r) => a + r.durationSeconds, 0);
      const cpu = xs.reduce((a, r) => a + r.cpuMsPerRequest! * r.requests, 0);
      const result: LoadResult = {
        requestsPerSecond: Math.round(requests / seconds),
        latencyMs: {
          p50: median(xs.map((r) => r.latencyMs.p50)),
          p90: median(xs.map((r) => r.latencyMs.p90)),
          p99: median(xs.map((r) => r.latencyMs.p99)),
          max: Math.max(...xs.map((r) => r.latencyMs.max)),
        },
        non2xx: xs.reduce((a, r) => a + r.non2xx, 0),
        errors: xs.reduce((a, r) => a + r.errors, 0),
        durationSeconds: seconds,
        connections: xs[0]!.connections,
        requests,
        cpuMsPerRequest: Number((cpu / requests).toFixed(3)),
      };
      return [b.name, result];
    }),
  );
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
 * on that commit too: both run side by side and each path is measured in interleaved 1 s slices, so machine
 * noise hits both alike. Targets: reads within 5 %, writes within 15 % (history and events are new work on
 * every write), judged on req/s and on the server's CPU time per request.
 */
export const recordPaths: Scenario = {
  name: 'record-paths',
  description:
    'REST read/create/update and web-service retrieve/query, this build vs BENCH_BASELINE_REF, 50 connections',
  async run() {
    const hello = await startNode([path.join(ROOT, 'bench/scenarios/hello-world.mjs')], {});
    const helloWorld = await load(`${hello.url}/hello`, { duration: ROUNDS }).finally(() => hello.stop());
    const ref = process.env.BENCH_BASELINE_REF;
    const baseline = ref ? buildBaseline(ref) : null;
    const builds: Build[] = [];
    try {
      if (baseline) builds.push(await prepare(ref!, baseline.root));
      builds.push(await prepare('this', ROOT));
      const results: Record<string, Record<string, LoadResult>> = {};
      for (const p of PATHS) results[p] = await interleaved(builds, p);
      const ratio = (p: string, of: (r: LoadResult) => number) =>
        Number((of(results[p]!.this!) / of(results[p]![ref!]!)).toFixed(3));
      const change = baseline
        ? Object.fromEntries(PATHS.map((p) => [p, ratio(p, (r) => r.requestsPerSecond)]))
        : null;
      // capacity from CPU time per request: the baseline's over this build's
      const cpuChange = baseline
        ? Object.fromEntries(PATHS.map((p) => [p, ratio(p, (r) => 1 / r.cpuMsPerRequest!)]))
        : null;
      // a path whose requests failed measured errors, not the path
      const answered = (p: string) => builds.every((b) => results[p]![b.name]!.non2xx === 0);
      const allowed: Record<string, number> = {
        read: 0.95,
        create: 0.85,
        update: 0.85,
        retrieve: 0.95,
        query: 0.95,
      };
      const verdict = (c: Record<string, number>) =>
        Object.fromEntries(PATHS.map((p) => [p, c[p]! >= allowed[p]! && answered(p) ? 'PASS' : 'FAIL']));
      return {
        helloWorld: summary(helloWorld),
        baselineRef: ref ?? null,
        builds: Object.fromEntries(
          builds.map((b) => [
            b.name,
            Object.fromEntries(PATHS.map((p) => [p, summary(results[p]![b.name]!)])),
          ]),
        ),
        thisVsBaseline: change,
        thisVsBaselineByCpu: cpuChange,
        targets: allowed,
        verdict: change ? verdict(change) : 'no baseline (set BENCH_BASELINE_REF)',
        verdictByCpu: cpuChange ? verdict(cpuChange) : null,
      };
    } finally {
      for (const b of builds) await b.stop();
      baseline?.remove();
    }
  },
};
