import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon, { type Request } from 'autocannon';
import { freePort } from '../test/process.js';

export const ROOT = path.resolve(import.meta.dirname, '..');

export interface LoadResult {
  requestsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  non2xx: number;
  errors: number;
  durationSeconds: number;
  /** how long the load ran: the duration without wrk's wait for every connection to open (wrk only) */
  loadSeconds?: number;
  connections: number;
  /** requests answered in the measured run */
  requests: number;
  /** the server's CPU time (user + system) per request during the measured run, when its pid was given */
  cpuMsPerRequest?: number;
}

/** CPU time (user + system) a process, or one of its threads, has used so far, in ms (Linux, from /proc). */
export function cpuMs(pid: number, thread?: number): number {
  const stat = procStat(thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`);
  if (!stat) throw new Error(`no process ${pid}`);
  return (stat.utime + stat.stime) * 10;
}

/**
 * A `/proc/…/stat` line: the command name and the CPU clock ticks (100 a second on Linux) of fields 14–17
 * (utime, stime, and the reaped children's cutime, cstime), with the parent's pid; null once the process is gone.
 */
function procStat(file: string) {
  let line: string;
  try {
    line = readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  // the command name in parentheses may itself hold ") "
  const end = line.lastIndexOf(')');
  const fields = line.slice(end + 2).split(' ');
  return {
    comm: line.slice(line.indexOf('(') + 1, end),
    ppid: Number(fields[1]),
    utime: Number(fields[11]),
    stime: Number(fields[12]),
    cutime: Number(fields[13]),
    cstime: Number(fields[14]),
  };
}

/**
 * The CPU time (ms) PostgreSQL's processes on this machine have used, every database of the cluster; null when
 * none runs here (a server elsewhere). Backends that have ended count too, through their postmaster's reaped
 * children (`cutime` + `cstime`): summing the live processes alone, a backend that ends between two readings (a
 * pool connection, a maintenance connection after its VACUUM) takes its whole life's CPU out of the difference,
 * and one 2 s slice read −247 µs per create.
 */
export function postgresCpuMs(): number | null {
  let ticks = 0;
  let found = false;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(`/proc/${entry}/stat`);
    if (stat?.comm !== 'postgres') continue;
    found = true;
    ticks += stat.utime + stat.stime;
    // the postmaster (whose parent is not postgres) also holds its ended children's time
    if (procStat(`/proc/${stat.ppid}/stat`)?.comm !== 'postgres') ticks += stat.cutime + stat.cstime;
  }
  return found ? ticks * 10 : null;
}

/** The nearest-rank percentile `p` (0-100) of `values` (any order); NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export interface Scenario {
  name: string;
  description: string;
  run(): Promise<Record<string, unknown>>;
}

export interface Proc {
  url: string;
  stop(): Promise<void>;
  child: ChildProcess;
}

/** Starts a node process serving HTTP and waits until `readyPath` answers 200. */
export async function startNode(
  args: string[],
  env: Record<string, string>,
  readyPath = '/healthz',
  pollMs = 100,
): Promise<Proc> {
  const port = await freePort();
  // BENCH_NODE_ARGS: options for the measured processes, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  // BENCH_STDOUT: a file the measured processes' standard output is appended to (V8's --trace-gc-nvp writes there)
  const stdout = process.env.BENCH_STDOUT ? openSync(process.env.BENCH_STDOUT, 'a') : 'ignore';
  const child = spawn(process.execPath, [...nodeArgs, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: ['ignore', stdout, 'inherit'],
  });
  if (typeof stdout === 'number') closeSync(stdout); // the child has its own
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`process exited early: ${args.join(' ')}`);
    try {
      if ((await fetch(url + readyPath)).ok) break;
    } catch {
      // not yet listening
    }
    if (Date.now() > deadline) throw new Error(`not ready: ${args.join(' ')}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
  return {
    url,
    child,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

/**
 * A fresh Rapport (built `dist/` of `root`: this checkout by default, or `BENCH_RAPPORT_ROOT`, another
 * built checkout to compare with in the same minutes) on SQLite in a temporary directory.
 */
export async function startRapport(
  extraEnv: Record<string, string> = {},
  root = process.env.BENCH_RAPPORT_ROOT ?? ROOT,
  existingDataDir?: string,
  pollMs = 100,
): Promise<Proc & { adminPassword: string; dataDir: string }> {
  const dataDir = existingDataDir ?? mkdtempSync(path.join(tmpdir(), 'rapport-bench-'));
  const adminPassword = 'bench-admin-password';
  const proc = await startNode(
    [path.join(root, 'bin/rapport.js'), 'serve'],
    {
      DATA_DIR: dataDir,
      RAPPORT_ADMIN_PASSWORD: adminPassword,
      LOG_LEVEL: 'warn',
      KEY_RATE_LIMIT_PER_MINUTE: '1000000000',
      // the load comes from one address: the per-address getchallenge limit would measure itself
      WS_CHALLENGES_PER_IP_PER_MINUTE: '1000000000',
      ...extraEnv,
    },
    '/healthz',
    pollMs,
  );
  return {
    ...proc,
    adminPassword,
    dataDir,
    async stop() {
      await proc.stop();
      if (!existingDataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function load(
  url: string,
  opts: {
    connections?: number;
    duration?: number;
    headers?: Record<string, string>;
    method?: string;
    body?: string;
    /** autocannon's request sequence, e.g. to vary the path or body per connection */
    requests?: Request[];
    /** the server's pid: its CPU time per request is measured too (less disturbed by other load than req/s) */
    pid?: number;
    /** run 2 s first, unmeasured (default): JIT, connection pools, SQLite page cache */
    warmUp?: boolean;
  } = {},
): Promise<LoadResult> {
  const connections = opts.connections ?? 50;
  const duration = opts.duration ?? 10;
  const request = {
    url,
    connections,
    method: opts.method ?? 'GET',
    headers: opts.headers ?? {},
    ...(opts.body !== undefined && { body: opts.body }),
    ...(opts.requests && { requests: opts.requests }),
  };
  if (opts.warmUp !== false) await autocannon({ ...request, duration: 2 });
  const cpu0 = opts.pid ? cpuMs(opts.pid) : 0;
  const r = await autocannon({ ...request, duration });
  const cpu = opts.pid ? cpuMs(opts.pid) - cpu0 : 0;
  return {
    requestsPerSecond: Math.round(r.requests.average),
    latencyMs: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max },
    non2xx: r.non2xx,
    errors: r.errors,
    durationSeconds: duration,
    connections,
    requests: r.requests.total,
    ...(opts.pid && { cpuMsPerRequest: Number((cpu / r.requests.total).toFixed(3)) }),
  };
}

export async function signIn(url: string, username: string, password: string) {
  const res = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (!res.ok) throw new Error(`sign-in failed: ${res.status}`);
  const body = (await res.json()) as { csrfToken: string };
  return { cookie: (res.headers.get('set-cookie') ?? '').split(';')[0]!, csrfToken: body.csrfToken };
}

export function writeResult(name: string, result: Record<string, unknown>): string {
  const dir = path.join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}
