import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type LoadResult, ROOT } from './lib.js';

/**
 * wrk (Debian's package) as the load generator: C, its own process, so the generator is not what limits
 * the figures (autocannon ran inside the bench's own Node process, on the same 2 cores). Installed from
 * Debian when missing and the bench runs as root, as `.ci/run` does.
 */
export function ensureWrk(): boolean {
  const has = () => {
    try {
      execFileSync('wrk', ['--version'], { stdio: 'ignore' });
      return true;
    } catch (err) {
      // wrk --version exits 1 after printing its version
      return (err as { status?: number }).status === 1;
    }
  };
  if (has()) return true;
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('apt-get', ['install', '-y', '-qq', 'wrk'], { stdio: 'inherit' });
  } catch {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    execFileSync('apt-get', ['install', '-y', '-qq', 'wrk'], { stdio: 'inherit' });
  }
  return has();
}

export interface WrkOptions {
  connections?: number;
  threads?: number;
  duration?: number;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** request paths (with query) used in turn, one after another per thread: e.g. one per session */
  paths?: string[];
  /**
   * Open every connection before the first request (default true). Off for the hello-world baseline: a
   * Lua `delay` makes wrk schedule a timer for every request, which costs wrk 5-14 % of the hello-world's
   * rate (71-86k against 83-90k req/s) and would flatter every ratio to it; the baseline's own tail is not
   * a target, and the few-hundred-request paths it is compared with lose nothing measurable to the timer.
   */
  openFirst?: boolean;
}

const luaString = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;

/**
 * How long each connection waits before its first request. Node accepts one connection per event-loop turn
 * (libuv >= 1.45, libuv/libuv#3696), so when wrk opens its connections and sends at once, the requests of
 * the first few saturate the loop and the last connection is accepted ~connections turns later: with 50
 * connections and 0.6 ms of work per request its first answer took ~840 ms, and wrk's coordinated-omission
 * correction turns those 50 samples into ~1 % of the histogram (p99 333 ms where every later request took
 * 31-61 ms). Opening the connections before the load measures the steady state; the connection burst is a
 * different question (see docs/performance.md, Tail latency).
 */
const FIRST_REQUEST_DELAY_MS = 100;

function script(opts: WrkOptions, perThread: number): string {
  const lines: string[] = [];
  if (opts.openFirst !== false) {
    lines.push('local sent = 0');
    lines.push(
      `delay = function() sent = sent + 1; if sent <= ${perThread} then return ${FIRST_REQUEST_DELAY_MS} end return 0 end`,
    );
  }
  lines.push(`wrk.method = ${luaString(opts.method ?? 'GET')}`);
  for (const [k, v] of Object.entries(opts.headers ?? {}))
    lines.push(`wrk.headers[${luaString(k)}] = ${luaString(v)}`);
  if (opts.body !== undefined) lines.push(`wrk.body = ${luaString(opts.body)}`);
  if (opts.paths?.length) {
    lines.push(`local paths = {${opts.paths.map(luaString).join(', ')}}`);
    lines.push('local i = math.random(#paths)');
    lines.push('request = function() i = i % #paths + 1; return wrk.format(nil, paths[i]) end');
  }
  // machine-readable summary on stderr-free stdout: percentiles in microseconds
  lines.push(`done = function(summary, latency, requests)
  local non2xx = summary.errors.status
  io.write(string.format("JSON {\\"requests\\":%d,\\"duration_us\\":%d,\\"p50\\":%d,\\"p90\\":%d,\\"p99\\":%d,\\"max\\":%d,\\"non2xx\\":%d,\\"errors\\":%d}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    non2xx, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end`);
  return lines.join('\n');
}

/** Runs wrk with `lua` as its script; answers the object its `done` printed after "JSON ". */
async function runWrk(
  url: string,
  lua: string,
  threads: number,
  connections: number,
  duration: number,
): Promise<Record<string, number>> {
  const dir = mkdtempSync(path.join(tmpdir(), 'rapport-wrk-'));
  const file = path.join(dir, 'script.lua');
  writeFileSync(file, lua);
  const args = ['-t', String(threads), '-c', String(connections), '-d', `${duration}s`, '--timeout', '10s'];
  args.push('-s', file, url);
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.on('data', (d) => {
      text += String(d);
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(text) : reject(new Error(`wrk exited ${code}: ${text}`)),
    );
  });
  const line = out.split('\n').find((l) => l.startsWith('JSON '));
  if (!line) throw new Error(`wrk printed no summary: ${out}`);
  return JSON.parse(line.slice(5)) as Record<string, number>;
}

/** One wrk run of `duration` seconds, without the warm-up `wrk` gives (for callers that alternate short runs). */
export async function runOnce(url: string, opts: WrkOptions, duration: number): Promise<LoadResult> {
  const connections = opts.connections ?? 50;
  const threads = Math.min(opts.threads ?? 2, connections);
  // wrk gives each thread (and its own Lua state) connections / threads connections
  const r = await runWrk(
    url,
    script(opts, Math.floor(connections / threads)),
    threads,
    connections,
    duration,
  );
  const ms = (us: number) => Number((us / 1000).toFixed(2));
  // the wait before the first requests is not load time
  const loadSeconds = r.duration_us! / 1e6 - (opts.openFirst === false ? 0 : FIRST_REQUEST_DELAY_MS / 1000);
  return {
    requestsPerSecond: Math.round(r.requests! / loadSeconds),
    loadSeconds,
    latencyMs: { p50: ms(r.p50!), p90: ms(r.p90!), p99: ms(r.p99!), max: ms(r.max!) },
    non2xx: r.non2xx!,
    errors: r.errors!,
    durationSeconds: duration,
    connections,
    requests: r.requests!,
  };
}

/**
 * How long the measured run waits after the warm-up. When wrk stops, the server is still answering the
 * warm-up's last requests (up to `connections` of them); the measured run's connections, opened meanwhile,
 * are then accepted one per event-loop turn while their first requests already load the loop: a turn grows
 * with every connection accepted, so with 2.4 ms requests (a page of 100 records) the last of 50 was accepted
 * ~3 s after the first, and wrk reported p99 2.5 s where a server at rest measured p99 ~130 ms.
 */
const SETTLE_MS = 500;

/** A 2 s warm-up (JIT, pools, page cache), a pause for the server to finish it, then the measured run. */
export async function wrk(url: string, opts: WrkOptions = {}): Promise<LoadResult> {
  await runOnce(url, opts, 2);
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  return runOnce(url, opts, opts.duration ?? 10);
}

export interface LoginPairs {
  pairsPerSecond: number;
  failures: number;
  /** of every request, getchallenge and login alike */
  latencyMs: { p50: number; p99: number };
}

/**
 * Web-service getchallenge + login pairs from `workers` clients at once (wrk, one thread and connection
 * each, md5 in Lua): `users` gives one user per worker, or one for all. A Node client here costs ~1.4 ms of
 * CPU per pair (fetch), as much as half the server's own, on the same two cores.
 */
export async function wrkLoginPairs(
  url: string,
  users: ReadonlyArray<{ username: string; key: string }>,
  workers: number,
  duration: number,
): Promise<LoginPairs> {
  const lua = [
    readFileSync(path.join(ROOT, 'bench/lua/md5.lua'), 'utf8'),
    `users = {${users.map((u) => `{${luaString(u.username)}, ${luaString(u.key)}}`).join(', ')}}`,
    readFileSync(path.join(ROOT, 'bench/lua/login-pairs.lua'), 'utf8'),
  ].join('\n');
  const r = await runWrk(url, lua, workers, workers, duration);
  return {
    pairsPerSecond: Math.round(r.ok! / (r.duration_us! / 1e6)),
    failures: r.failed!,
    latencyMs: { p50: Number((r.p50! / 1000).toFixed(2)), p99: Number((r.p99! / 1000).toFixed(2)) },
  };
}
