import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { LoadResult } from './lib.js';

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
}

const luaString = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;

function script(opts: WrkOptions): string {
  const lines: string[] = [];
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

async function runOnce(url: string, opts: WrkOptions, duration: number): Promise<LoadResult> {
  const dir = mkdtempSync(path.join(tmpdir(), 'rapport-wrk-'));
  const file = path.join(dir, 'script.lua');
  writeFileSync(file, script(opts));
  const connections = opts.connections ?? 50;
  const threads = Math.min(opts.threads ?? 2, connections);
  const args = [
    '-t',
    String(threads),
    '-c',
    String(connections),
    '-d',
    `${duration}s`,
    '--timeout',
    '10s',
    '-s',
    file,
    url,
  ];
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
  const r = JSON.parse(line.slice(5)) as Record<string, number>;
  const ms = (us: number) => Number((us / 1000).toFixed(2));
  return {
    requestsPerSecond: Math.round(r.requests! / (r.duration_us! / 1e6)),
    latencyMs: { p50: ms(r.p50!), p90: ms(r.p90!), p99: ms(r.p99!), max: ms(r.max!) },
    non2xx: r.non2xx!,
    errors: r.errors!,
    durationSeconds: duration,
    connections,
    requests: r.requests!,
  };
}

/** A 2 s warm-up (JIT, pools, page cache), then the measured run. */
export async function wrk(url: string, opts: WrkOptions = {}): Promise<LoadResult> {
  await runOnce(url, opts, 2);
  return runOnce(url, opts, opts.duration ?? 10);
}
