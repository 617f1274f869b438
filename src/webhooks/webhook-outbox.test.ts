import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { describeEachDialect, expectStatus } from '../../test/harness.js';
import { parseConfig } from '../config.js';
import { EXPAND_LOCK, expandWebhookEvents } from './webhook-outbox.repository.js';

describeEachDialect(
  'webhook events become deliveries',
  (h) => {
    const count = async (table: 'webhook_events' | 'webhook_deliveries') =>
      Number(
        (
          await h.ctx.db.kysely
            .selectFrom(table)
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );

    it('expands a waiting event once, and not while another process holds the expansion (PostgreSQL)', async () => {
      const hook = await h.request({
        method: 'POST',
        url: '/api/v1/webhooks',
        as: h.admin,
        payload: { url: 'http://127.0.0.1:9/outbox', module: 'Contacts', operations: ['created'] },
      });
      expectStatus(hook, 201);
      expectStatus(
        await h.request({
          method: 'POST',
          url: '/api/v1/records/Contacts',
          as: h.admin,
          payload: { lastname: 'Outbox' },
        }),
        201,
      );
      expect(await count('webhook_events')).toBe(1);
      const before = await count('webhook_deliveries');
      if (h.dialect === 'postgres') {
        // another process expanding: its transaction holds the lock; this one must leave the event alone
        await h.ctx.db.kysely.transaction().execute(async (trx) => {
          await sql`select pg_advisory_xact_lock(${sql.lit(EXPAND_LOCK)}, hashtext(current_schema()))`.execute(
            trx,
          );
          expect(await expandWebhookEvents(h.ctx.db, 10)).toBeNull();
        });
        expect(await count('webhook_events')).toBe(1);
      }
      expect(await expandWebhookEvents(h.ctx.db, 10, Number.POSITIVE_INFINITY, false)).toEqual({
        events: 1,
        listed: 1,
        more: false,
      });
      expect(await count('webhook_events')).toBe(0);
      expect(await count('webhook_deliveries')).toBe(before + 1);
      // nothing left: the next expansion finds nothing
      expect(await expandWebhookEvents(h.ctx.db, 10)).toEqual({ events: 0, listed: 0, more: false });
    });
  },
  // the sender off: the test expands by hand
  { webhooks: { ...parseConfig({}).webhooks, allowedHosts: ['127.0.0.1/32'], sender: false } },
);
