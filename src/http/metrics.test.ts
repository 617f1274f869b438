import { expect, it } from 'vitest';
import { describeEachDialect, expectStatus } from '../../test/harness.js';
import { WebhookReceiver } from '../../test/webhook-receiver.js';
import { parseConfig } from '../config.js';

const TOKEN = 'metrics-token-for-tests-0123456789abcdef';

describeEachDialect(
  'metrics endpoint',
  (h) => {
    const scrape = async () => (await h.request({ method: 'GET', url: '/metrics', as: h.admin })).body;
    /** creates a contact as the admin; answers its id */
    const createContact = async (lastname: string) => {
      const created = await h.request({
        method: 'POST',
        url: '/api/v1/records/Contacts',
        as: h.admin,
        payload: { lastname },
      });
      expectStatus(created, 201);
      return (created.json() as { id: number }).id;
    };

    it('gives admins request latency by route pattern, event-loop delay and process metrics', async () => {
      const id = await createContact('Metric');
      expectStatus(
        await h.request({ method: 'GET', url: `/api/v1/records/Contacts/${id}`, as: h.admin }),
        200,
      );
      await new Promise((r) => setTimeout(r, 60)); // a few event-loop probes
      const res = await h.request({ method: 'GET', url: '/metrics', as: h.admin });
      expectStatus(res, 200);
      expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(res.body).toMatch(
        /rapport_http_request_duration_seconds_bucket\{le="0\.\d+",method="GET",route="\/api\/v1\/records\/:module\/:id",status_code="200"\} 1/,
      );
      expect(res.body).toContain('route="/api/v1/records/:module",status_code="201"');
      // series per route pattern, never per raw URL
      expect(res.body).not.toContain(`/Contacts/${id}`);
      expect(res.body).toMatch(/rapport_event_loop_delay_seconds_count [1-9]/);
      expect(res.body).toContain('process_cpu_user_seconds_total');
      expect(res.body).toContain('nodejs_eventloop_lag_p99_seconds');
    });

    it('counts the webhook requests this process sent, by result', async () => {
      const rx = await new WebhookReceiver().start();
      rx.respond = (r, res) => res.writeHead(r.path === '/ok' ? 204 : 500).end();
      try {
        for (const path of ['/ok', '/fails'])
          expectStatus(
            await h.request({
              method: 'POST',
              url: '/api/v1/webhooks',
              as: h.admin,
              payload: { url: `${rx.url}${path}`, module: 'Contacts', operations: ['created'] },
            }),
            201,
          );
        const count = (body: string, result: string) =>
          Number(new RegExp(`rapport_webhook_attempts_total\\{result="${result}"\\} (\\d+)`).exec(body)?.[1]);
        const before = await scrape();
        await createContact('Hooked');
        await h.ctx.webhookSender.drain();
        const after = await scrape();
        expect(count(after, 'succeeded') - count(before, 'succeeded')).toBe(1);
        expect(count(after, 'failed') - count(before, 'failed')).toBe(1);
        // a scrape takes what was counted since the last one: the totals do not grow by themselves
        expect(await scrape()).toContain(
          `rapport_webhook_attempts_total{result="succeeded"} ${count(after, 'succeeded')}`,
        );
      } finally {
        await rx.stop();
      }
    });

    it('PostgreSQL: counts single reads by the connection that ran them', async () => {
      const count = (body: string, connection: string) =>
        Number(
          new RegExp(`rapport_db_reads_total\\{connection="${connection}"\\} (\\d+)`).exec(body)?.[1] ?? NaN,
        );
      const before = await scrape();
      if (h.dialect === 'sqlite') {
        expect(before).not.toContain('rapport_db_reads_total');
        return;
      }
      const id = await createContact('Counted');
      for (let i = 0; i < 5; i++)
        expectStatus(
          await h.request({ method: 'GET', url: `/api/v1/records/Contacts/${id}`, as: h.admin }),
          200,
        );
      const after = await scrape();
      // every read is counted once, where it ran; a text runs on the pool until a read of it was quick,
      // then shares
      const total = (body: string) => count(body, 'shared') + count(body, 'pool');
      expect(total(after) - total(before)).toBeGreaterThanOrEqual(5);
      expect(count(after, 'shared')).toBeGreaterThan(count(before, 'shared'));
    });

    it('refuses everyone else, and takes the scraper token only as itself', async () => {
      const user = await h.createUser();
      expect((await h.request({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
      expect((await h.request({ method: 'GET', url: '/metrics', as: user.session })).statusCode).toBe(403);
      const viaToken = await h.request({
        method: 'GET',
        url: '/metrics',
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expectStatus(viaToken, 200);
      expect(viaToken.body).toContain('rapport_http_request_duration_seconds');
      const wrong = await h.request({
        method: 'GET',
        url: '/metrics',
        headers: { authorization: `Bearer ${TOKEN}x` },
      });
      expect(wrong.statusCode).toBe(401);
      // the token opens /metrics only: it is no access key anywhere else
      const elsewhere = await h.request({
        method: 'GET',
        url: '/api/v1/me',
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(elsewhere.statusCode).toBe(401);
    });
  },
  {
    metricsToken: TOKEN,
    webhooks: { ...parseConfig({}).webhooks, allowedHosts: ['127.0.0.1/32'], sender: false },
  },
);
