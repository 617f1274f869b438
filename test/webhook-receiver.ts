import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  path: string;
  headers: Record<string, string>;
  body: string;
  at: number;
}

type Responder = (req: Received, res: http.ServerResponse) => void;

/** A real HTTP receiver on loopback that records every request and answers with `respond` (200 by default). */
export class WebhookReceiver {
  readonly received: Received[] = [];
  respond: Responder = (_req, res) => res.writeHead(200).end('ok');
  private server!: http.Server;
  private waiters: Array<{ n: number; resolve: () => void }> = [];
  url = '';

  async start(host = '127.0.0.1'): Promise<this> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const r: Received = {
          path: req.url ?? '/',
          headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])),
          body: Buffer.concat(chunks).toString('utf8'),
          at: performance.now(),
        };
        this.received.push(r);
        this.respond(r, res);
        this.waiters = this.waiters.filter((w) => {
          if (this.received.length >= w.n) w.resolve();
          return this.received.length < w.n;
        });
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, host, resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    return this;
  }

  /** resolves once `n` requests have arrived in total, or rejects after `ms` */
  waitFor(n: number, ms = 10_000): Promise<void> {
    if (this.received.length >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(
        () => reject(new Error(`receiver got ${this.received.length} of ${n} requests in ${ms} ms`)),
        ms,
      );
      this.waiters.push({
        n,
        resolve: () => {
          clearTimeout(t);
          resolve();
        },
      });
    });
  }

  json(i: number): { type: string; timestamp: string; data: Record<string, unknown> } {
    return JSON.parse(this.received[i]!.body);
  }

  clear(): void {
    this.received.length = 0;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
