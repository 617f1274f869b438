import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { bareHost, type TargetPolicy, TargetRefused } from './webhook-target.js';

/** What one POST to a receiver came to. */
export interface PostOutcome {
  statusCode: number | null;
  /** the first `keepBytes` of the response body */
  body: string | null;
  /** Retry-After in milliseconds, when the receiver sent one */
  retryAfterMs: number | null;
  error: string | null;
  latencyMs: number;
}

const KEEP_BYTES = 4096;
/** read at most this much of a response before dropping the connection (a 50 MB body costs nothing more) */
const READ_LIMIT = 65_536;

/**
 * Posts webhook bodies. Every connection resolves its host through the policy's checking lookup, IP
 * literals are checked before dialling, redirects are never followed (a 3xx is a failed attempt), the whole
 * attempt has one deadline, and only the first 64 KB of a response is read.
 */
export class WebhookHttp {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;

  constructor(
    private readonly policy: TargetPolicy,
    private readonly timeoutMs: number,
  ) {
    // no cap per host here: the sender bounds the requests (128 a process, 64 a webhook), and a request
    // queued in the agent for a connection spent its deadline waiting there (several webhooks on one host
    // timed out behind each other, and the wait showed as the receiver's latency)
    this.httpAgent = new http.Agent({ keepAlive: true, timeout: timeoutMs });
    this.httpsAgent = new https.Agent({ keepAlive: true, timeout: timeoutMs });
  }

  post(rawUrl: string, headers: Record<string, string>, body: string): Promise<PostOutcome> {
    const started = performance.now();
    const done = (o: Omit<PostOutcome, 'latencyMs'>): PostOutcome => ({
      ...o,
      latencyMs: Math.round(performance.now() - started),
    });
    return new Promise<PostOutcome>((resolve) => {
      let settled = false;
      let deadline: NodeJS.Timeout | undefined;
      const finish = (o: Omit<PostOutcome, 'latencyMs'>) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        resolve(done(o));
      };
      const fail = (error: string, statusCode: number | null = null) =>
        finish({ statusCode, body: null, retryAfterMs: null, error });
      let url: URL;
      try {
        url = new URL(rawUrl);
        const host = bareHost(url);
        if (net.isIP(host) !== 0) this.policy.checkAddress(host, host);
      } catch (err) {
        resolve(
          done({
            statusCode: null,
            body: null,
            retryAfterMs: null,
            error: err instanceof TargetRefused ? `refused: ${err.message}` : 'invalid URL',
          }),
        );
        return;
      }
      const isHttps = url.protocol === 'https:';
      const payload = Buffer.from(body);
      const req = (isHttps ? https : http).request(url, {
        method: 'POST',
        agent: isHttps ? this.httpsAgent : this.httpAgent,
        lookup: this.policy.lookup as never,
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': String(payload.length),
          'user-agent': 'Rapport-Webhooks/1',
        },
      });
      deadline = setTimeout(() => {
        req.destroy(new Error(`timed out after ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      req.on('error', (err) =>
        fail(err instanceof TargetRefused ? `refused: ${err.message}` : describeError(err)),
      );
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let read = 0;
        const statusCode = res.statusCode ?? 0;
        const retryAfterMs = parseRetryAfter(res.headers['retry-after']);
        const complete = () =>
          finish({
            statusCode,
            body: Buffer.concat(chunks).toString('utf8').slice(0, KEEP_BYTES),
            retryAfterMs,
            error: null,
          });
        res.on('data', (chunk: Buffer) => {
          if (read < KEEP_BYTES) chunks.push(chunk.subarray(0, KEEP_BYTES - read));
          read += chunk.length;
          if (read > READ_LIMIT) {
            complete();
            res.destroy();
          }
        });
        res.on('end', complete);
        res.on('error', () => complete());
        res.on('close', complete);
      });
      req.end(payload);
    });
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

function describeError(err: Error & { code?: string }): string {
  const code = err.code ? `${err.code}: ` : '';
  return `${code}${err.message}`.slice(0, 300);
}

/** Retry-After as seconds or an HTTP date, in ms from now; null when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | null {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return null;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}
