/**
 * What the webhook sender costs a flood of REST creates, paired so that the machine's noise hits both sides:
 * two servers side by side (SQLite), both with 10 webhooks on Contacts. Server A sends (`WEBHOOK_SENDER=on`);
 * server B only queues (`off`), or, with `AB_B_ENV` (JSON), runs its sender with those settings: an A/B of a
 * setting. 2 s slices of 8 clients alternate between them (A first in even pairs); after each slice a sending
 * server works off its backlog before the next slice starts. Prints per pair, and as medians, the process CPU
 * per create (`/proc`, every thread), the main thread's, the rate ratio A/B and the deliveries that arrived
 * during each side's slices.
 *
 *   npx tsx bench/webhook-sender-ab.ts            (npm run build first: it runs the built server)
 *   AB_PAIRS=10 AB_SLICE_SECONDS=2 AB_B_ENV='{"WEBHOOK_BUSY_RATE":"1"}' npx tsx bench/webhook-sender-ab.ts
 *
 * A measuring aid (docs/performance.md, stop 52), not a target: `npm run bench` does not run it.
 */
import path from 'node:path';
import Sqlite from 'better-sqlite3';
import { cpuMs, signIn, startRapport } from './lib.js';
import { receiver, UNFINISHED_SQL } from './scenarios/webhooks.js';

const PAIRS = Number(process.env.AB_PAIRS ?? 10);
const SLICE_SECONDS = Number(process.env.AB_SLICE_SECONDS ?? 2);
const B_ENV = process.env.AB_B_ENV ? (JSON.parse(process.env.AB_B_ENV) as Record<string, string>) : null;
const HOOKS = 10;
const CLIENTS = 8;

interface Slice {
  rate: number;
  cpuUs: number;
  mainUs: number;
  arrived: number;
}

const rx = await receiver();
/** how many deliveries have arrived at the receiver */
const arrivals = async () => (await rx.count()).count;

async function server(env: Record<string, string>) {
  const rapport = await startRapport({ WEBHOOK_ALLOWED_HOSTS: '127.0.0.1/32', ...env });
  const pid = rapport.child.pid!;
  const session = await signIn(rapport.url, 'admin', rapport.adminPassword);
  const keyRes = await fetch(`${rapport.url}/api/v1/users/me/access-key`, {
    headers: { cookie: session.cookie },
  });
  const { accessKey } = (await keyRes.json()) as { accessKey: string };
  const headers = { authorization: `Bearer ${accessKey}`, 'content-type': 'application/json' };
  for (let i = 0; i < HOOKS; i++) {
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
  const file = new Sqlite(path.join(rapport.dataDir, 'rapport.db'), { readonly: true });
  const unfinished = file.prepare<[], { n: number }>(UNFINISHED_SQL);
  const sends = env.WEBHOOK_SENDER !== 'off';
  let n = 0;
  return {
    async slice(seconds: number): Promise<Slice> {
      await new Promise((r) => setTimeout(r, 700));
      const arrivedBefore = await arrivals();
      const cpu0 = cpuMs(pid);
      const main0 = cpuMs(pid, pid);
      const started = Date.now();
      const end = started + seconds * 1000;
      let done = 0;
      await Promise.all(
        Array.from({ length: CLIENTS }, async () => {
          while (Date.now() < end) {
            const res = await fetch(`${rapport.url}/api/v1/records/Contacts`, {
              method: 'POST',
              headers,
              body: JSON.stringify({ lastname: `AB ${n++}`, firstname: 'Web', email: `ab${n}@example.org` }),
            });
            await res.arrayBuffer();
            if (res.status === 201) done++;
          }
        }),
      );
      const ms = Date.now() - started;
      const slice = {
        rate: (done * 1000) / ms,
        cpuUs: ((cpuMs(pid) - cpu0) * 1000) / done,
        mainUs: ((cpuMs(pid, pid) - main0) * 1000) / done,
        arrived: (await arrivals()) - arrivedBefore,
      };
      // a sending server works off its backlog before the other side's slice: the two share the machine
      const until = Date.now() + 300_000;
      while (sends && unfinished.get()!.n > 0) {
        if (Date.now() > until) throw new Error('the sender did not finish within 5 minutes');
        await new Promise((r) => setTimeout(r, 50));
      }
      return slice;
    },
    async stop() {
      file.close();
      await rapport.stop();
    },
  };
}

const median = (values: readonly number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const a = await server({ WEBHOOK_SENDER: 'on' });
const b = await server(B_ENV ? { WEBHOOK_SENDER: 'on', ...B_ENV } : { WEBHOOK_SENDER: 'off' });
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
    process.stdout.write(
      `pair ${p}: A ${Math.round(pair.a.rate)}/s ${Math.round(pair.a.cpuUs)} µs (${pair.a.arrived} sent), ` +
        `B ${Math.round(pair.b.rate)}/s ${Math.round(pair.b.cpuUs)} µs (${pair.b.arrived} sent)\n`,
    );
  }
  const result = {
    b: B_ENV ?? { WEBHOOK_SENDER: 'off' },
    medianCpuUsPerCreateAminusB: Math.round(median(pairs.map((p) => p.a.cpuUs - p.b.cpuUs))),
    medianMainThreadUsPerCreateAminusB: Math.round(median(pairs.map((p) => p.a.mainUs - p.b.mainUs))),
    medianRateRatioAoverB: Math.round(median(pairs.map((p) => p.a.rate / p.b.rate)) * 1000) / 1000,
    deliveriesPerSlice: { a: pairs.map((p) => p.a.arrived), b: pairs.map((p) => p.b.arrived) },
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} finally {
  await a.stop();
  await b.stop();
  await rx.close();
}
