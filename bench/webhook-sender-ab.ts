/**
 * What the webhook sender costs a flood of REST creates, paired so that the machine's noise hits both sides:
 * two servers side by side (SQLite), both with 10 webhooks on Contacts. Server A sends (`WEBHOOK_SENDER=on`,
 * plus `AB_A_ENV`, JSON); server B only queues (`off`), or runs its sender with `AB_B_ENV`'s settings (an A/B
 * of a setting), or is another commit's build (`AB_B_REF`: an A/B of two builds), with `AB_B_HOOKS` webhooks
 * (default 10; `AB_A_ENV='{"WEBHOOK_SENDER":"off"}' AB_B_HOOKS=0` measures what the write alone pays).
 * 2 s slices of 8 wrk connections alternate between them (A first in even pairs); after each slice a sending
 * server works off its backlog before the next slice starts. Prints per pair, and as medians, the process
 * CPU per create (`/proc`, every thread), the main thread's, the rate ratio A/B and the deliveries that
 * arrived during each side's slices. With `AB_DATABASE_URL=postgres://…` each server gets a database of its
 * own on that PostgreSQL, and PostgreSQL's CPU per create is printed too (its processes on this machine,
 * ended backends included: the other server is at rest meanwhile).
 *
 *   npx tsx bench/webhook-sender-ab.ts            (npm run build first: it runs the built server)
 *   AB_PAIRS=10 AB_SLICE_SECONDS=2 AB_B_ENV='{"WEBHOOK_BUSY_RATE":"1"}' npx tsx bench/webhook-sender-ab.ts
 *   AB_B_REF=HEAD~1 npx tsx bench/webhook-sender-ab.ts
 *   AB_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/webhook-sender-ab.ts
 *
 * A measuring aid (docs/performance.md, stops 52 and 60), not a target: `npm run bench` does not run it.
 */
import { scratchDatabase } from '../test/scratch-database.js';
import { buildBaseline } from './baseline-build.js';
import { cpuMs, postgresCpuMs, ROOT, signIn, startRapport } from './lib.js';
import { receiver, unfinishedReader } from './scenarios/webhooks.js';
import { runOnce } from './wrk.js';

const PAIRS = Number(process.env.AB_PAIRS ?? 10);
const SLICE_SECONDS = Number(process.env.AB_SLICE_SECONDS ?? 2);
const B_ENV = process.env.AB_B_ENV ? (JSON.parse(process.env.AB_B_ENV) as Record<string, string>) : null;
/** server A's settings over `WEBHOOK_SENDER=on` (AB_A_ENV, JSON) */
const A_ENV = process.env.AB_A_ENV ? (JSON.parse(process.env.AB_A_ENV) as Record<string, string>) : {};
const HOOKS = 10;
/** server B runs this commit's build instead of this checkout's (AB_B_REF): an A/B of two builds */
const B_REF = process.env.AB_B_REF;
/** webhooks on server B (AB_B_HOOKS, default 10): 0 with both senders off measures what the write pays */
const B_HOOKS = Number(process.env.AB_B_HOOKS ?? HOOKS);
const CONNECTIONS = 8;
/** a PostgreSQL server to run both on (AB_DATABASE_URL), a database each; SQLite without it */
const PG_URL = process.env.AB_DATABASE_URL;

interface Slice {
  rate: number;
  cpuUs: number;
  mainUs: number;
  /** PostgreSQL's CPU per create (µs), on PostgreSQL */
  pgUs: number;
  arrived: number;
}

const rx = await receiver();
/** how many deliveries have arrived at the receiver */
const arrivals = async () => (await rx.count()).count;

async function server(env: Record<string, string>, hooks = HOOKS, root = ROOT) {
  const db = PG_URL ? await scratchDatabase(PG_URL, 'rapport_bench') : null;
  const rapport = await startRapport(
    { WEBHOOK_ALLOWED_HOSTS: '127.0.0.1/32', ...(db && { DATABASE_URL: db.url }), ...env },
    root,
  );
  const pid = rapport.child.pid!;
  const session = await signIn(rapport.url, 'admin', rapport.adminPassword);
  const keyRes = await fetch(`${rapport.url}/api/v1/users/me/access-key`, {
    headers: { cookie: session.cookie },
  });
  const { accessKey } = (await keyRes.json()) as { accessKey: string };
  const headers = { authorization: `Bearer ${accessKey}`, 'content-type': 'application/json' };
  for (let i = 0; i < hooks; i++) {
    const res = await fetch(`${rapport.url}/api/v1/webhooks`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        url: `${rx.url}/${i}`,
        module: 'Contacts',
        operations: ['created'],
      }),
    });
    if (res.status !== 201) throw new Error(`webhook create: ${res.status} ${await res.text()}`);
  }
  const unfinished = await unfinishedReader(rapport.dataDir, db?.url);
  const sends = env.WEBHOOK_SENDER !== 'off';
  let n = 0;
  return {
    async slice(seconds: number): Promise<Slice> {
      await new Promise((r) => setTimeout(r, 700));
      const arrivedBefore = await arrivals();
      const cpu0 = cpuMs(pid);
      const main0 = cpuMs(pid, pid);
      const pg0 = PG_URL ? postgresCpuMs() : null;
      const r = await runOnce(
        `${rapport.url}/api/v1/records/Contacts`,
        {
          method: 'POST',
          headers,
          body: JSON.stringify({ lastname: `AB ${n++}`, firstname: 'Web', email: 'ab@example.org' }),
          connections: CONNECTIONS,
          threads: 2,
        },
        seconds,
      );
      const done = r.requests - r.non2xx;
      const slice = {
        rate: done / r.loadSeconds!,
        cpuUs: ((cpuMs(pid) - cpu0) * 1000) / done,
        mainUs: ((cpuMs(pid, pid) - main0) * 1000) / done,
        pgUs: pg0 === null ? 0 : (((postgresCpuMs() ?? pg0) - pg0) * 1000) / done,
        arrived: (await arrivals()) - arrivedBefore,
      };
      // a sending server works off its backlog before the other side's slice: the two share the machine
      const until = Date.now() + 300_000;
      while (sends && (await unfinished.read()) > 0) {
        if (Date.now() > until) throw new Error('the sender did not finish within 5 minutes');
        await new Promise((r) => setTimeout(r, 50));
      }
      return slice;
    },
    async stop() {
      await unfinished.close();
      await rapport.stop();
      await db?.drop();
    },
  };
}

const median = (values: readonly number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const baseline = B_REF ? buildBaseline(B_REF) : null;
const a = await server({ WEBHOOK_SENDER: 'on', ...A_ENV });
const b = await server(
  B_ENV || B_REF ? { WEBHOOK_SENDER: 'on', ...B_ENV } : { WEBHOOK_SENDER: 'off' },
  B_HOOKS,
  baseline?.root,
);
try {
  // warm-up, not counted
  await a.slice(SLICE_SECONDS);
  await b.slice(SLICE_SECONDS);
  const pairs: { a: Slice; b: Slice }[] = [];
  for (let p = 0; p < PAIRS; p++) {
    const first = p % 2 === 0 ? a : b;
    const x = await first.slice(SLICE_SECONDS);
    const y = await (first === a ? b : a).slice(SLICE_SECONDS);
    const pair = first === a ? { a: x, b: y } : { a: y, b: x };
    pairs.push(pair);
    const side = (x: Slice) =>
      `${Math.round(x.rate)}/s ${Math.round(x.cpuUs)} µs${PG_URL ? ` (PostgreSQL ${Math.round(x.pgUs)} µs)` : ''} ` +
      `(${x.arrived} sent)`;
    process.stdout.write(`pair ${p}: A ${side(pair.a)}, B ${side(pair.b)}\n`);
  }
  const result = {
    database: PG_URL ? 'postgres' : 'sqlite',
    a: { WEBHOOK_SENDER: 'on', ...A_ENV },
    b: {
      ...(B_ENV || B_REF ? { WEBHOOK_SENDER: 'on', ...B_ENV } : { WEBHOOK_SENDER: 'off' }),
      hooks: B_HOOKS,
      ...(B_REF && { ref: B_REF }),
    },
    medianCpuUsPerCreateAminusB: Math.round(median(pairs.map((p) => p.a.cpuUs - p.b.cpuUs))),
    medianMainThreadUsPerCreateAminusB: Math.round(median(pairs.map((p) => p.a.mainUs - p.b.mainUs))),
    ...(PG_URL && {
      medianPostgresCpuUsPerCreateAminusB: Math.round(median(pairs.map((p) => p.a.pgUs - p.b.pgUs))),
    }),
    medianRateRatioAoverB: Math.round(median(pairs.map((p) => p.a.rate / p.b.rate)) * 1000) / 1000,
    deliveriesPerSlice: { a: pairs.map((p) => p.a.arrived), b: pairs.map((p) => p.b.arrived) },
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} finally {
  await a.stop();
  await b.stop();
  baseline?.remove();
  await rx.close();
}
