import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import type { AppContext } from '../context.js';
import { safeEqual } from '../platform/crypto.js';

/** Seconds; from well under a millisecond (a cached read) to the request timeout. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** How often the event-loop probe asks to run; its lateness is the delay every request waits too. */
const PROBE_MS = 20;

/**
 * `GET /metrics` in Prometheus text format (prom-client): the request latency histogram by route and
 * status, the event-loop delay histogram, the webhook requests this process sent, where PostgreSQL's single
 * reads ran (shared or pooled connections), and prom-client's process
 * metrics (CPU, memory, GC, handles, event-loop lag percentiles). The tail users feel shows here in production, not only in `npm run bench`.
 * Admins may read it with their session or key; a scraper with `Authorization: Bearer METRICS_TOKEN`.
 */
export async function metricsRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const latency = new Histogram({
    name: 'rapport_http_request_duration_seconds',
    help: 'Time from the request arriving to the answer sent, by route pattern, method and status code.',
    labelNames: ['method', 'route', 'status_code'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const loopDelay = new Histogram({
    name: 'rapport_event_loop_delay_seconds',
    help: `How late a timer asked for every ${PROBE_MS} ms ran: time every request in flight waited too.`,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  // the sender counts; the counter takes what it counted since the last scrape
  const sent = { succeeded: 0, failed: 0 };
  new Counter({
    name: 'rapport_webhook_attempts_total',
    help: 'Webhook requests this process sent, by result: succeeded (2xx) or failed (anything else, no answer).',
    labelNames: ['result'],
    registers: [registry],
    collect() {
      for (const result of ['succeeded', 'failed'] as const) {
        const now = ctx.webhookSender.stats[result];
        this.inc({ result }, now - sent[result]);
        sent[result] = now;
      }
    },
  });
  const reads = ctx.db.readStats;
  if (reads) {
    const counted = { shared: 0, pool: 0 };
    new Counter({
      name: 'rapport_db_reads_total',
      help:
        'PostgreSQL: single reads outside a transaction, by where they ran: shared (pipelined with other ' +
        "requests' reads) or pool (a statement text not known quick, or every shared connection busy or closed).",
      labelNames: ['connection'],
      registers: [registry],
      collect() {
        for (const connection of ['shared', 'pool'] as const) {
          this.inc({ connection }, reads[connection] - counted[connection]);
          counted[connection] = reads[connection];
        }
      },
    });
  }
  let expected = performance.now() + PROBE_MS;
  const probe = setInterval(() => {
    const now = performance.now();
    loopDelay.observe(Math.max(0, now - expected) / 1000);
    expected = now + PROBE_MS;
  }, PROBE_MS);
  probe.unref();
  app.addHook('onClose', async () => clearInterval(probe));

  app.addHook('onResponse', async (req, reply) => {
    // the route's pattern, never the raw URL: ids and query strings would make a series per request
    const route = req.routeOptions.url ?? 'unmatched';
    latency.observe(
      { method: req.method, route, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  const token = ctx.config.metricsToken;
  app.get(
    '/metrics',
    {
      config: {
        access: 'admin',
        alternativeCredential: token
          ? (req: FastifyRequest) => safeEqual(req.headers.authorization ?? '', `Bearer ${token}`)
          : undefined,
      },
      schema: { hide: true },
    },
    async (_req, reply) => {
      reply.header('content-type', registry.contentType).header('cache-control', 'no-store');
      return registry.metrics();
    },
  );
}
