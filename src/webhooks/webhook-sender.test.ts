import type http from 'node:http';
import { sql } from 'kysely';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, expect, it } from 'vitest';
import { describeEachDialect, expectStatus, type Harness } from '../../test/harness.js';
import { WebhookReceiver } from '../../test/webhook-receiver.js';
import { CLI_ACTOR } from '../audit/audit.repository.js';
import { parseConfig } from '../config.js';
import type { Db } from '../db/database.js';
import { findWebhook, insertDeliveries } from './webhook.repository.js';
import { deleteWebhook } from './webhook.service.js';
import { WebhookHttp } from './webhook-http.js';
import { EXPAND_LOCK, expandWebhookEvents } from './webhook-outbox.repository.js';
import {
  CLAIM_BATCH,
  createWebhookSender,
  MAX_IN_FLIGHT_PER_WEBHOOK,
  rampBudget,
  type WebhookSender,
} from './webhook-sender.js';
import { newMessageId } from './webhook-signing.js';

const DAY = 86_400_000;

/** Fails instead of hanging: a sender that never settles is the bug these tests exist to catch. */
function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

async function createHook(h: Harness, url: string) {
  const res = await h.request({ method: 'POST', url: '/api/v1/webhooks', as: h.admin, payload: { url } });
  expectStatus(res, 201);
  return res.json() as { id: number; secret: string };
}

async function queue(h: Harness, webhookId: number, n: number, recordOf: (i: number) => number | null) {
  const now = h.clock.now();
  await insertDeliveries(
    h.ctx.db.kysely,
    Array.from({ length: n }, (_, i) => ({
      webhook_id: webhookId,
      msg_id: newMessageId(),
      event_type: 'contacts.updated',
      record_id: recordOf(i),
      payload: JSON.stringify({ type: 'contacts.updated', data: { record: recordOf(i), seq: i } }),
      status: 'pending' as const,
      next_attempt_at: now,
      created_at: now,
    })),
  );
}

/** `n` webhook events of the admin for `webhookIds`, as record writes would have left them unexpanded. */
async function queueEvents(h: Harness, webhookIds: number[], n: number) {
  const now = h.clock.now();
  await h.ctx.db.kysely
    .insertInto('webhook_events')
    .values(
      Array.from({ length: n }, (_, i) => ({
        user_id: h.admin.userId,
        webhook_ids: webhookIds.join(','),
        event_type: 'contacts.updated',
        record_id: null,
        payload: JSON.stringify({ seq: i }),
        created_at: now,
      })),
    )
    .execute();
}

/**
 * `db` with `before` run ahead of its write transactions: on PostgreSQL each transaction of its own; on SQLite
 * each unit of the group commit, or with 'results writes' only those that end a batch (the sender's results
 * writes; its claims are neither). A `before` that rejects fails the write as the database would.
 */
function beforeWrites(db: Db, which: 'every write' | 'results writes', before: () => Promise<unknown>): Db {
  const kysely = new Proxy(db.kysely, {
    get(target, prop) {
      if (prop === 'transaction')
        return () => {
          const builder = target.transaction();
          return { execute: (work: never) => before().then(() => builder.execute(work)) };
        };
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  const group = db.groupCommit;
  if (!group) return { ...db, kysely };
  const run = ((work, endsBatch) =>
    endsBatch || which === 'every write'
      ? before().then(() => group.run(work, endsBatch))
      : group.run(work)) as typeof group.run;
  return { ...db, kysely, groupCommit: { run } as unknown as typeof group };
}

describeEachDialect(
  'webhooks: the batched sender',
  (h) => {
    const senders: WebhookSender[] = [];
    const receivers: WebhookReceiver[] = [];
    const sender = (
      timeoutMs: number,
      retentionMs?: number,
      load?: { busy: () => boolean; busyRate: number },
      db: Db = h.ctx.db,
    ) => {
      const s = createWebhookSender({
        ...load,
        db,
        clock: h.clock,
        logger: h.ctx.logger,
        secrets: h.ctx.secrets,
        http: new WebhookHttp(h.ctx.webhookPolicy, timeoutMs),
        timeoutMs,
        mailFrom: 'rapport@localhost',
        mailKick: () => {},
        retentionMs,
      });
      senders.push(s);
      return s;
    };
    const receiver = async () => {
      const rx = await new WebhookReceiver().start();
      receivers.push(rx);
      return rx;
    };
    // each test's senders stop with it: an idle sender woken later by one of its timers would compete for
    // the next test's deliveries
    afterEach(async () => {
      for (const s of senders.splice(0)) await s.stop();
    });
    afterAll(async () => {
      for (const r of receivers) await r.stop();
    });

    const countRows = async (table: 'webhook_events' | 'webhook_deliveries', webhookIds?: number[]) =>
      Number(
        (
          await h.ctx.db.kysely
            .selectFrom(table)
            .select((eb) => eb.fn.countAll().as('n'))
            .$if(webhookIds !== undefined, (q) => q.where(sql.ref('webhook_id'), 'in', webhookIds!))
            .executeTakeFirstOrThrow()
        ).n,
      );

    it('a record change writes one event row per owner; the sender makes it one delivery per webhook', async () => {
      await h.ctx.db.kysely.updateTable('webhooks').set({ enabled: 0 }).execute();
      const rx = await receiver();
      const hooks = [
        await createHook(h, `${rx.url}/fan/1`),
        await createHook(h, `${rx.url}/fan/2`),
        await createHook(h, `${rx.url}/fan/3`),
      ];
      const created = await h.request({
        method: 'POST',
        url: '/api/v1/records/Contacts',
        as: h.admin,
        payload: { lastname: 'Fan' },
      });
      expectStatus(created, 201);
      let { id, version } = created.json() as { id: number; version: number };
      for (const email of ['a@example.org', 'b@example.org']) {
        const res = await h.request({
          method: 'PATCH',
          url: `/api/v1/records/Contacts/${id}`,
          as: h.admin,
          payload: { email, version },
        });
        expectStatus(res, 200);
        version = (res.json() as { version: number }).version;
      }
      // three changes, one owner: three rows in the writes, however many webhooks listen
      expect(await countRows('webhook_events')).toBe(3);
      expect(
        await countRows(
          'webhook_deliveries',
          hooks.map((k) => k.id),
        ),
      ).toBe(0);
      await within(20_000, 'drain', sender(5000).drain());
      expect(await countRows('webhook_events')).toBe(0);
      expect(rx.received).toHaveLength(9);
      expect(new Set(rx.received.map((r) => r.headers['webhook-id'])).size).toBe(9);
      for (const [i, hook] of hooks.entries()) {
        const wh = new Webhook(hook.secret);
        const got = rx.received
          .filter((r) => r.path.endsWith(`/fan/${i + 1}`))
          .map((r) => (wh.verify(r.body, r.headers) as { type: string }).type);
        // per webhook, in commit order
        expect(got).toEqual(['contacts.created', 'contacts.updated', 'contacts.updated']);
      }
      // a body is stored once per change, for all three webhooks, and goes with the last delivery using it
      const bodies = (
        await h.ctx.db.kysely
          .selectFrom('webhook_deliveries')
          .select('payload_id')
          .distinct()
          .where(
            'webhook_id',
            'in',
            hooks.map((k) => k.id),
          )
          .execute()
      ).map((d) => d.payload_id);
      expect(bodies).toHaveLength(3);
      const stored = async () =>
        (
          await h.ctx.db.kysely
            .selectFrom('webhook_payloads')
            .select('id')
            .where('id', 'in', bodies)
            .execute()
        ).length;
      expectStatus(
        await h.request({ method: 'DELETE', url: `/api/v1/webhooks/${hooks[0]!.id}`, as: h.admin }),
        204,
      );
      expect(await stored()).toBe(3);
      for (const hook of hooks.slice(1))
        expectStatus(
          await h.request({ method: 'DELETE', url: `/api/v1/webhooks/${hook.id}`, as: h.admin }),
          204,
        );
      expect(await stored()).toBe(0);
    });

    it('deletes a webhook a batch of messages at a time, with their attempts and bodies, audited once', async () => {
      const db = h.ctx.db.kysely;
      const hook = await createHook(h, 'http://127.0.0.1:9/purged');
      const kept = await createHook(h, 'http://127.0.0.1:9/kept');
      // the other webhook's messages between this one's: inside the id ranges the batches delete
      await queue(h, hook.id, 10, () => null);
      await queue(h, kept.id, 3, () => null);
      await queue(h, hook.id, 15, () => null);
      const messages = await db
        .selectFrom('webhook_deliveries')
        .select(['id', 'webhook_id', 'payload_id'])
        .where('webhook_id', 'in', [hook.id, kept.id])
        .execute();
      await db
        .insertInto('webhook_attempts')
        .values(
          messages.map((m) => ({
            delivery_id: m.id,
            webhook_id: m.webhook_id,
            at: h.clock.now(),
            status_code: 500,
            latency_ms: 3,
            error: null,
            response_body: null,
            next_attempt_at: null,
          })),
        )
        .execute();
      const left = async (table: 'webhook_deliveries' | 'webhook_attempts', id: number) =>
        Number(
          (
            await db
              .selectFrom(table)
              .select((eb) => eb.fn.countAll().as('n'))
              .where('webhook_id', '=', id)
              .executeTakeFirstOrThrow()
          ).n,
        );
      const row = (await findWebhook(db, hook.id))!;
      // the event loop turns between batches of 7: four batches, three turns at least
      let turns = 0;
      let deleting = true;
      const count = () => {
        turns++;
        if (deleting) setImmediate(count);
      };
      setImmediate(count);
      await deleteWebhook(h.ctx, CLI_ACTOR, row, 7);
      deleting = false;
      expect(turns).toBeGreaterThanOrEqual(3);
      expect(await findWebhook(db, hook.id)).toBeUndefined();
      expect(await left('webhook_deliveries', hook.id)).toBe(0);
      expect(await left('webhook_attempts', hook.id)).toBe(0);
      expect(await left('webhook_deliveries', kept.id)).toBe(3);
      expect(await left('webhook_attempts', kept.id)).toBe(3);
      const bodies = await db
        .selectFrom('webhook_payloads')
        .select('id')
        .where(
          'id',
          'in',
          messages.map((m) => m.payload_id),
        )
        .execute();
      expect(bodies).toHaveLength(3);
      const audited = await db
        .selectFrom('audit_log')
        .select('action')
        .where('target_type', '=', 'webhook')
        .where('target_id', '=', String(hook.id))
        .execute();
      expect(audited.map((a) => a.action).filter((a) => a === 'webhook.deleted')).toHaveLength(1);
      // deleting it again (a second request that found it before the first ended) finds nothing
      await expect(deleteWebhook(h.ctx, CLI_ACTOR, row, 7)).rejects.toMatchObject({
        code: 'WEBHOOK_NOT_FOUND',
      });
      expectStatus(
        await h.request({ method: 'DELETE', url: `/api/v1/webhooks/${kept.id}`, as: h.admin }),
        204,
      );
    });

    it('expands a waiting event once, and not while another process holds the expansion (PostgreSQL)', async () => {
      // what earlier tests left waiting goes first, so the change below is the only event
      while ((await expandWebhookEvents(h.ctx.db, 200))?.events) {}
      const hook = await createHook(h, 'http://127.0.0.1:9/outbox');
      const res = await h.request({
        method: 'POST',
        url: '/api/v1/records/Contacts',
        as: h.admin,
        payload: { lastname: 'Outbox' },
      });
      expectStatus(res, 201);
      expect(await countRows('webhook_events')).toBe(1);
      const before = await countRows('webhook_deliveries');
      if (h.dialect === 'postgres') {
        // another process expanding: its transaction holds the lock; this one must leave the event alone
        await h.ctx.db.kysely.transaction().execute(async (trx) => {
          await sql`select pg_advisory_xact_lock(${sql.lit(EXPAND_LOCK)}, hashtext(current_schema()))`.execute(
            trx,
          );
          expect(await expandWebhookEvents(h.ctx.db, 10)).toBeNull();
        });
        expect(await countRows('webhook_events')).toBe(1);
        expect(await countRows('webhook_deliveries')).toBe(before);
      }
      const x = await expandWebhookEvents(h.ctx.db, 10);
      expect(x).toMatchObject({ events: 1, more: false });
      expect(await countRows('webhook_events')).toBe(0);
      // one delivery per webhook the event listed (earlier tests' webhooks of the admin's are still on)
      expect(await countRows('webhook_deliveries')).toBe(before + x!.listed);
      expect(await countRows('webhook_deliveries', [hook.id])).toBe(1);
      // nothing left: the next expansion finds nothing
      expect(await expandWebhookEvents(h.ctx.db, 10)).toEqual({ events: 0, listed: 0, more: false });
    });

    it('a webhook deleted between the commit and the expansion gets nothing; the others still do', async () => {
      await h.ctx.db.kysely.updateTable('webhooks').set({ enabled: 0 }).execute();
      const rx = await receiver();
      const kept = await createHook(h, `${rx.url}/kept`);
      const gone = await createHook(h, `${rx.url}/gone`);
      expectStatus(
        await h.request({
          method: 'POST',
          url: '/api/v1/records/Contacts',
          as: h.admin,
          payload: { lastname: 'Gone' },
        }),
        201,
      );
      expectStatus(
        await h.request({ method: 'DELETE', url: `/api/v1/webhooks/${gone.id}`, as: h.admin }),
        204,
      );
      await within(20_000, 'drain', sender(5000).drain());
      expect(rx.received.map((r) => r.path)).toEqual([expect.stringMatching(/\/kept$/)]);
      expect(await countRows('webhook_deliveries', [kept.id])).toBe(1);
      expect(await countRows('webhook_events')).toBe(0);
    });

    it('after rest, deliveries start at the ramp rate and speed up; all of them go', async () => {
      await h.ctx.db.kysely.updateTable('webhooks').set({ enabled: 0 }).execute();
      const rx = await receiver();
      const hooks = [await createHook(h, `${rx.url}/ramp/a`), await createHook(h, `${rx.url}/ramp/b`)];
      // a first delivery each, drained (a drain ignores the ramp), warms the sender's statements and
      // connections; then it rests (500 ms without a delivery starts the ramp over)
      const s = sender(5000);
      for (const hook of hooks) await queue(h, hook.id, 1, () => null);
      await s.drain();
      await new Promise((r) => setTimeout(r, 600));
      // the receiver holds its answers: no delivery finishes, so the claimed rows are every one started
      const held: http.ServerResponse[] = [];
      rx.respond = (_req, res) => void held.push(res);
      // each webhook's first 64 deliveries come first: at full speed the first claim takes 128 at once (one
      // webhook may hold 64 slots)
      for (const n of [64, 136]) for (const hook of hooks) await queue(h, hook.id, n, () => null);
      const t0 = performance.now();
      s.kick();
      // what the sender has claimed, as soon as its first claim shows (a claim is one statement)
      const claimedNow = async () =>
        Number(
          (
            await h.ctx.db.kysely
              .selectFrom('webhook_deliveries')
              .select((eb) => eb.fn.countAll().as('n'))
              .where('claimed_until', 'is not', null)
              .where('finished_at', 'is', null)
              .executeTakeFirstOrThrow()
          ).n,
        );
      let claimed = 0;
      for (let i = 0; i < 10_000 && claimed === 0; i++) {
        await new Promise((r) => setTimeout(r, 1));
        claimed = await claimedNow();
      }
      const elapsed = performance.now() - t0;
      // no more than the ramp's budget for the time that passed: 32 at once, then 1,000 a second doubling
      // every 100 ms (~65 by 30 ms); at full speed the first claim took 128 at once
      expect(claimed).toBeLessThanOrEqual(Math.floor(rampBudget(elapsed)));
      rx.respond = (_req, res) => res.writeHead(200).end('ok');
      for (const res of held.splice(0)) res.writeHead(200).end('ok');
      await rx.waitFor(402, 15_000);
      expect(rx.received).toHaveLength(402);
      await s.stop();
    }, 30_000);

    it('while requests saturate the process, events become deliveries a few at a time; all of them after', async () => {
      await h.ctx.db.kysely.updateTable('webhooks').set({ enabled: 0 }).execute();
      const rx = await receiver();
      const hook = await createHook(h, `${rx.url}/busy-expand`);
      await queueEvents(h, [hook.id], 100);
      let busy = true;
      const s = sender(5000, undefined, { busy: () => busy, busyRate: 50 });
      const t0 = performance.now();
      s.kick();
      await new Promise((r) => setTimeout(r, 400));
      const expanded = await countRows('webhook_deliveries', [hook.id]);
      const tenths = Math.ceil((performance.now() - t0) / 100);
      // five events (a tenth of a second's worth at 50/s) each tenth of a second at most
      expect(expanded).toBeGreaterThan(0);
      expect(expanded).toBeLessThanOrEqual(5 * (tenths + 1));
      busy = false;
      s.kick();
      await rx.waitFor(100, 15_000);
      expect(await countRows('webhook_events')).toBe(0);
      await s.stop();
    }, 30_000);

    it('events become deliveries only as fast as they are sent: a backlog waits as events', async () => {
      await h.ctx.db.kysely.updateTable('webhooks').set({ enabled: 0 }).execute();
      const rx = await receiver();
      const held: Array<() => void> = [];
      rx.respond = (_r, res) => held.push(() => res.writeHead(200).end());
      // 32 webhooks on every event: a claim of 128 takes four of each, and all of them may start (however
      // the slots are shared out), so every slot is in flight with more deliveries due
      const hooks: Array<{ id: number; secret: string }> = [];
      for (let i = 0; i < 32; i++) hooks.push(await createHook(h, `${rx.url}/jit/${i}`));
      const ids = hooks.map((k) => k.id);
      const events = 100;
      await queueEvents(h, ids, events);
      const s = sender(10_000);
      s.kick();
      // the answers are held: nothing more can go now
      await rx.waitFor(CLAIM_BATCH, 5000);
      await new Promise((r) => setTimeout(r, 300));
      expect(rx.received).toHaveLength(CLAIM_BATCH);
      // what the slots took and one more claim's worth; the rest stay events (one row for all 32 webhooks)
      const expanded = await countRows('webhook_deliveries', ids);
      expect(expanded).toBe(2 * CLAIM_BATCH);
      expect(await countRows('webhook_events')).toBe(events - expanded / ids.length);
      rx.respond = (_r, res) => res.writeHead(200).end();
      for (const answer of held.splice(0)) answer();
      await rx.waitFor(ids.length * events, 30_000);
      await within(20_000, 'drain', s.drain());
      expect(await countRows('webhook_events')).toBe(0);
      for (const i of hooks.keys()) {
        const got = rx.received.filter((r) => r.path.endsWith(`/jit/${i}`));
        expect(new Set(got.map((r) => (JSON.parse(r.body) as { seq: number }).seq)).size).toBe(events);
      }
      expect(new Set(rx.received.map((r) => r.headers['webhook-id'])).size).toBe(ids.length * events);
      // the admin's webhooks are limited (50): the later tests need room for theirs
      for (const hook of hooks)
        expectStatus(
          await h.request({ method: 'DELETE', url: `/api/v1/webhooks/${hook.id}`, as: h.admin }),
          204,
        );
    }, 60_000);

    it('writes results that failed to write (database overloaded) later, instead of sending them again', async () => {
      const rx = await receiver();
      const hook = await createHook(h, `${rx.url}/flaky`);
      await queue(h, hook.id, 5, (i) => 9_000 + i);
      // the first two transactions fail as a pool with no free connection would (SQLite: the group
      // commit, which runs the sender's writes there)
      let failing = 2;
      const s = sender(
        5000,
        undefined,
        undefined,
        beforeWrites(h.ctx.db, 'every write', async () => {
          if (failing === 0) return;
          failing--;
          throw new Error('timeout exceeded when trying to connect');
        }),
      );
      // a failed claim (SQLite: the first write) ends a drain early, as the poll would retry it; a failed
      // results write is kept and written later, within the same drain
      const pending = async () =>
        Number(
          (
            await h.ctx.db.kysely
              .selectFrom('webhook_deliveries')
              .select((eb) => eb.fn.countAll<number | string>().as('n'))
              .where('webhook_id', '=', hook.id)
              .where('status', '=', 'pending')
              .executeTakeFirstOrThrow()
          ).n,
        );
      for (let round = 0; round < 5 && (failing > 0 || (await pending()) > 0); round++)
        await within(20_000, 'drain', s.drain());
      expect(failing).toBe(0);
      const rows = await h.ctx.db.kysely
        .selectFrom('webhook_deliveries')
        .select(['status', 'attempts', 'claimed_until'])
        .where('webhook_id', '=', hook.id)
        .execute();
      expect(rows).toHaveLength(5);
      expect(
        rows.every((r) => r.status === 'delivered' && r.attempts === 1 && r.claimed_until === null),
      ).toBe(true);
      // the clock moves past any claim: nothing is sent again
      h.clock.advance(3_600_000);
      await within(20_000, 'second drain', s.drain());
      expect(rx.received).toHaveLength(5);
    });

    it('keeps per-record order across concurrent batches and settles (no hang)', async () => {
      const rx = await receiver();
      // answers out of order: later requests often finish first
      rx.respond = (_r, res) => setTimeout(() => res.writeHead(200).end(), Math.random() * 8);
      const hook = await createHook(h, `${rx.url}/order`);
      const EVENTS = 700;
      await queue(h, hook.id, EVENTS, (i) => 1_000 + (i % 9));
      const s = sender(5000);
      await within(30_000, 'drain', s.drain());
      expect(rx.received).toHaveLength(EVENTS);
      const wh = new Webhook(hook.secret);
      const last = new Map<number, number>();
      for (const r of rx.received) {
        const { data } = wh.verify(r.body, r.headers) as { data: { record: number; seq: number } };
        expect(data.seq).toBeGreaterThan(last.get(data.record) ?? -1);
        last.set(data.record, data.seq);
      }
      expect(new Set(rx.received.map((r) => r.headers['webhook-id'])).size).toBe(EVENTS);
      await within(10_000, 'a second drain with nothing due', s.drain());
    }, 60_000);

    it('a webhook switched off with a backlog: its deliveries are cancelled a claim at a time, the loop turning', async () => {
      await h.ctx.db.kysely.updateTable('webhooks').set({ enabled: 0 }).execute();
      const rx = await receiver();
      const hook = await createHook(h, `${rx.url}/off-backlog`);
      const BACKLOG = 1_000;
      await queue(h, hook.id, BACKLOG, () => null);
      expectStatus(
        await h.request({
          method: 'PATCH',
          url: `/api/v1/webhooks/${hook.id}`,
          as: h.admin,
          payload: { enabled: false },
        }),
        200,
      );
      const messages = (status: 'pending' | 'cancelled', claimedOnly = false) =>
        h.ctx.db.kysely
          .selectFrom('webhook_deliveries')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('webhook_id', '=', hook.id)
          .where('status', '=', status)
          .$if(claimedOnly, (q) => q.where('claimed_until', 'is not', null))
          .executeTakeFirstOrThrow()
          .then((r) => Number(r.n));
      // Before the fix, on SQLite, the sender claimed every pending delivery (each claim an answer
      // without I/O) before its first write could run, kept them all as unwritten results and claimed
      // them again as their claims lapsed: the process stopped serving requests and grew until it ran out
      // of memory. At every turn of the event loop now, at most one claim waits for its write — however
      // often the sender is asked to pump meanwhile: commits kick it, and the ramp's and the poll's timers
      // pump it (one of those claimed beside an unwritten claim on PostgreSQL: 154 pending claimed). A drain
      // claims without the ramp, and each results write is held back 20 ms (it comes from the group commit
      // on SQLite, a transaction of its own on PostgreSQL; a claim is neither): a claim let through during
      // a write would take a full batch more.
      const s = sender(
        5000,
        undefined,
        undefined,
        beforeWrites(h.ctx.db, 'results writes', () => new Promise((r) => setTimeout(r, 20))),
      );
      const drained = s.drain();
      let most = 0;
      let turns = 0;
      for (;;) {
        s.kick();
        await new Promise((r) => setImmediate(r));
        turns++;
        most = Math.max(most, await messages('pending', true));
        if ((await messages('pending')) === 0) break;
        if (turns > 5_000) throw new Error(`still pending after ${turns} turns`);
      }
      expect(most).toBeGreaterThan(0);
      expect(most).toBeLessThanOrEqual(CLAIM_BATCH);
      expect(rx.received).toHaveLength(0);
      expect(await messages('cancelled')).toBe(BACKLOG);
      await within(10_000, 'settle', drained);
    }, 60_000);

    it('while requests saturate the process, deliveries start at the busy rate; they all go once it is not', async () => {
      const rx = await receiver();
      const hook = await createHook(h, `${rx.url}/busy`);
      await queue(h, hook.id, 200, () => null);
      let busy = true;
      const s = sender(5000, undefined, { busy: () => busy, busyRate: 50 });
      const t0 = performance.now();
      s.kick();
      await rx.waitFor(3, 5000); // never starved: a floor of deliveries goes on
      await new Promise((r) => setTimeout(r, 600));
      const seconds = (performance.now() - t0) / 1000;
      // at most a tenth of a second's worth at once, then 50 a second
      expect(rx.received.length).toBeLessThanOrEqual(5 + Math.ceil(50 * seconds) + 5);
      expect(rx.received.length).toBeLessThan(200);
      busy = false;
      s.kick();
      await rx.waitFor(200, 15_000);
      expect(new Set(rx.received.map((r) => r.headers['webhook-id'])).size).toBe(200);
      await s.stop(); // its timer must not claim the next test's deliveries
    }, 30_000);

    it('an explicit drain delivers everything even while busy', async () => {
      const rx = await receiver();
      const hook = await createHook(h, `${rx.url}/busy-drain`);
      await queue(h, hook.id, 120, () => null);
      const s = sender(5000, undefined, { busy: () => true, busyRate: 1 });
      await within(20_000, 'drain', s.drain());
      expect(rx.received).toHaveLength(120);
    }, 30_000);

    it('a receiver that hangs holds a bounded share of the slots: other webhooks deliver meanwhile', async () => {
      const stuck = await receiver();
      stuck.respond = () => {}; // never answers
      const fine = await receiver();
      const slow = await createHook(h, `${stuck.url}/hang`);
      const ok = await createHook(h, `${fine.url}/ok`);
      // more hanging deliveries than the whole process may have in flight, queued first
      await queue(h, slow.id, 300, () => null);
      await queue(h, ok.id, 40, (i) => 5_000 + i);
      const s = sender(4000);
      const drained = s.drain();
      await fine.waitFor(40, 3000);
      expect(stuck.received.length).toBeLessThanOrEqual(MAX_IN_FLIGHT_PER_WEBHOOK);
      // stop hanging so the remaining rounds answer quickly; every attempt ends and the drain settles
      stuck.respond = (_r, res) => res.writeHead(200).end();
      await within(30_000, 'drain', drained);
      const rows = await h.ctx.db.kysely
        .selectFrom('webhook_deliveries')
        .select(['status', 'last_error'])
        .where('webhook_id', '=', slow.id)
        .execute();
      const timedOut = rows.filter((r) => r.last_error?.includes('timed out'));
      expect(timedOut.length).toBeGreaterThan(0);
      expect(timedOut.every((r) => r.status === 'pending')).toBe(true);
    }, 60_000);

    it('receivers that hang cannot take every slot, and one that timed out gets one request at a time', async () => {
      const stuck = [await receiver(), await receiver()];
      for (const rx of stuck) rx.respond = () => {}; // never answer
      const fine = await receiver();
      const hanging = [await createHook(h, `${stuck[0]!.url}/a`), await createHook(h, `${stuck[1]!.url}/b`)];
      const ok = await createHook(h, `${fine.url}/ok`);
      // two webhooks' worth of hanging deliveries (64 each could hold all 128 slots), queued first
      for (const hook of hanging) await queue(h, hook.id, 150, () => null);
      await queue(h, ok.id, 20, (i) => 7_000 + i);
      const timeoutMs = 2_000;
      const s = sender(timeoutMs);
      const drained = s.drain();
      // the others go at once, not after the hanging requests' timeout (four at a time in the reserved
      // slots: with three test workers on two cores one run got 18 in 1.2 s, so 20 in 1.7 s)
      await fine.waitFor(20, timeoutMs - 300);

      const timedOut = async () => {
        const rows = await h.ctx.db.kysely
          .selectFrom('webhook_attempts')
          .select(['webhook_id', (eb) => eb.fn.countAll().as('n')])
          .where('error', 'like', 'timed out%')
          .groupBy('webhook_id')
          .execute();
        return hanging.map((hook) => Number(rows.find((r) => r.webhook_id === hook.id)?.n ?? 0));
      };
      const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
      // the first requests time out (and the slots they free go to the other webhook's, up to its limit);
      // from then on each hanging webhook has one request in flight per timeout, not another wave of 64
      await sleep(timeoutMs * 3.5);
      const settledWaves = await timedOut();
      expect(Math.min(...settledWaves)).toBeGreaterThan(0);
      await sleep(timeoutMs * 2);
      const later = await timedOut();
      for (const i of [0, 1]) expect(later[i]! - settledWaves[i]!).toBeLessThanOrEqual(3);

      // the receivers recover: every message gets through (the timed-out ones when their retry is due)
      for (const rx of stuck) rx.respond = (_r, res) => res.writeHead(200).end();
      await within(60_000, 'drain', drained);
      h.clock.advance(60_000);
      await within(60_000, 'drain', s.drain());
      const statuses = await h.ctx.db.kysely
        .selectFrom('webhook_deliveries')
        .select('status')
        .where('webhook_id', 'in', [...hanging.map((x) => x.id), ok.id])
        .execute();
      expect(statuses.filter((d) => d.status === 'delivered')).toHaveLength(320);
    }, 90_000);

    it('webhooks on one host do not time out waiting for each other’s connections', async () => {
      const rx = await receiver();
      const timers: NodeJS.Timeout[] = [];
      rx.respond = (_r, res) => void timers.push(setTimeout(() => res.writeHead(200).end(), 800));
      // two webhooks on one host: ~100 requests at once (64 and 32); each attempt is timed from its start.
      // Queued behind 32 connections per host they took four waves of 0.8 s; each has 2 s
      const hooks = [await createHook(h, `${rx.url}/one`), await createHook(h, `${rx.url}/two`)];
      for (const hook of hooks) await queue(h, hook.id, 100, () => null);
      const s = sender(2_000);
      await within(30_000, 'drain', s.drain());
      for (const t of timers) clearTimeout(t);
      const attempts = await h.ctx.db.kysely
        .selectFrom('webhook_attempts')
        .select(['status_code', 'error', 'latency_ms'])
        .where(
          'webhook_id',
          'in',
          hooks.map((x) => x.id),
        )
        .execute();
      // every message delivered at its first attempt, each attempt as long as the receiver took
      expect(attempts).toHaveLength(200);
      expect(attempts.filter((a) => a.status_code !== 200)).toEqual([]);
      expect(Math.max(...attempts.map((a) => a.latency_ms))).toBeLessThan(2_000);
    }, 60_000);

    it('a 50 MB answer, a reset connection and a late answer each cost one attempt; others deliver meanwhile', async () => {
      const huge = await receiver();
      let hugeBytesSent = 0;
      huge.respond = (_r, res) => {
        // 50 MB in 1 MB writes, each after the previous drained: stops when the sender drops the connection
        const chunk = Buffer.alloc(1 << 20, 'x');
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(50 << 20) });
        res.on('error', () => {});
        const more = () => {
          while (hugeBytesSent < 50 << 20 && !res.destroyed) {
            hugeBytesSent += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', more);
          }
          res.end();
        };
        more();
      };
      const reset = await receiver();
      reset.respond = (_r, res) => res.socket?.destroy();
      const late = await receiver();
      const lateTimers: NodeJS.Timeout[] = [];
      late.respond = (_r, res) => {
        lateTimers.push(setTimeout(() => res.writeHead(200).end('too late'), 8_000));
      };
      const fine = await receiver();
      const hooks = {
        huge: await createHook(h, `${huge.url}/huge`),
        reset: await createHook(h, `${reset.url}/reset`),
        late: await createHook(h, `${late.url}/late`),
        fine: await createHook(h, `${fine.url}/fine`),
      };
      for (const hook of [hooks.huge, hooks.reset, hooks.late]) await queue(h, hook.id, 1, () => null);
      await queue(h, hooks.fine.id, 20, (i) => 6_000 + i);
      const started = performance.now();
      const s = sender(3_000);
      const drained = s.drain();
      await fine.waitFor(20, 10_000);
      // the fine receiver did not wait for the late one's timeout
      expect(performance.now() - started).toBeLessThan(3_000);
      await within(20_000, 'drain', drained);
      for (const t of lateTimers) clearTimeout(t);

      const attempts = async (webhookId: number) =>
        h.ctx.db.kysely
          .selectFrom('webhook_attempts as a')
          .innerJoin('webhook_deliveries as d', 'd.id', 'a.delivery_id')
          .select(['a.status_code', 'a.error', 'a.response_body', 'a.next_attempt_at', 'd.status'])
          .where('a.webhook_id', '=', webhookId)
          .execute();
      // the 50 MB answer: a success read no further than the first 64 KB, 4 KB of it kept
      const [hugeAttempt, ...moreHuge] = await attempts(hooks.huge.id);
      expect(moreHuge).toHaveLength(0);
      expect(hugeAttempt).toMatchObject({ status_code: 200, error: null, status: 'delivered' });
      expect(hugeAttempt!.response_body).toHaveLength(4096);
      expect(hugeBytesSent).toBeLessThan(50 << 20);
      // the reset and the late answer: one failed attempt each, retried later
      for (const [id, error] of [
        [hooks.reset.id, /ECONNRESET|socket hang up/],
        [hooks.late.id, /timed out after 3000 ms/],
      ] as const) {
        const [attempt, ...more] = await attempts(id);
        expect(more).toHaveLength(0);
        expect(attempt).toMatchObject({ status_code: null, response_body: null, status: 'pending' });
        expect(attempt!.error).toMatch(error);
        expect(attempt!.next_attempt_at).toBeGreaterThan(h.clock.now());
      }
      expect(late.received).toHaveLength(1);
      expect(reset.received).toHaveLength(1);
    }, 60_000);

    it('deletes finished deliveries and their attempts after the retention period, in batches', async () => {
      const rx = await receiver();
      const hook = await createHook(h, `${rx.url}/retention`);
      const s = sender(5000, 30 * DAY);
      await queue(h, hook.id, 1_200, () => null);
      await s.drain();
      h.clock.advance(10 * DAY);
      await queue(h, hook.id, 5, () => null);
      await s.drain();
      rx.respond = (_r, res) => res.writeHead(500).end();
      await queue(h, hook.id, 3, () => 77);
      await s.drain(); // three pending: a retry is due in 5 s
      const count = async (table: 'webhook_deliveries' | 'webhook_attempts') =>
        Number(
          (
            await h.ctx.db.kysely
              .selectFrom(table)
              .select((eb) => eb.fn.countAll().as('n'))
              .where('webhook_id', '=', hook.id)
              .executeTakeFirstOrThrow()
          ).n,
        );
      expect(await count('webhook_deliveries')).toBe(1_208);
      await s.housekeep(); // earlier tests' deliveries finished days ago, but not 30 days ago
      expect(await count('webhook_deliveries')).toBe(1_208);
      h.clock.advance(21 * DAY); // the first 1,200 finished 31 days ago, the next 5 only 21
      // more than one retention batch (1,000) goes, earlier tests' deliveries with them
      expect(await s.housekeep()).toBeGreaterThanOrEqual(1_200);
      expect(await count('webhook_deliveries')).toBe(8);
      expect(await count('webhook_attempts')).toBe(6);
      const left = await h.ctx.db.kysely
        .selectFrom('webhook_deliveries')
        .select('status')
        .where('webhook_id', '=', hook.id)
        .execute();
      expect(left.filter((r) => r.status === 'pending')).toHaveLength(3);
    }, 60_000);
  },
  { webhooks: { ...parseConfig({}).webhooks, allowedHosts: ['127.0.0.1/32'], sender: false } },
);
