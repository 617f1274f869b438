import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorFromRequest, recordAudit } from '../audit/audit.repository.js';
import type { AppContext } from '../context.js';
import { transaction } from '../db/direct-transaction.js';
import {
  type Mailbox,
  type MailboxInput,
  mailboxInputSchema,
  pollMailbox,
  testConnection,
  toMailbox,
} from './mailbox.service.js';
import { mailroomError } from './mailroom.errors.js';

const iso = (ms: number | null) => (ms == null ? null : new Date(ms).toISOString());

const mailboxSchema = z
  .object({
    id: z.number(),
    name: z.string(),
    host: z.string(),
    port: z.number(),
    tls: z.boolean(),
    username: z.string(),
    hasPassword: z.literal(true).describe('the password is stored encrypted and never shown again'),
    folders: z.array(z.string()),
    scan: z.enum(['unread', 'all']),
    scanSince: z.string().nullable(),
    afterScan: z.enum(['none', 'mark_read', 'move']),
    moveTo: z.string().nullable(),
    pollSeconds: z.number(),
    enabled: z.boolean(),
    lastPolledAt: z.string().nullable(),
    lastError: z.string().nullable(),
    failures: z.number(),
    nextPollAt: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'MailroomMailbox' });

const present = (m: Mailbox) => ({
  ...m,
  hasPassword: true as const,
  scanSince: iso(m.scanSince),
  lastPolledAt: iso(m.lastPolledAt),
  nextPollAt: iso(m.nextPollAt),
  createdAt: iso(m.createdAt)!,
  updatedAt: iso(m.updatedAt)!,
});

const checkSchema = z
  .object({
    ok: z.boolean(),
    stage: z.enum(['dns', 'connect', 'tls', 'login', 'folder', 'ok']),
    message: z.string(),
    folders: z.array(z.string()).optional(),
  })
  .meta({ id: 'MailroomConnectionCheck' });

const idParam = z.object({ id: z.coerce.number().int().positive().max(2_147_483_647) });

/** Mailbox administration: add, change, remove, test the connection, poll now. Admins only, audited. */
export async function mailboxRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const db = ctx.db.kysely;
  const tags = ['Mailroom'];
  const admin = { access: 'admin' as const };

  async function load(id: number) {
    const row = await db.selectFrom('mailroom_mailboxes').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw mailroomError('MAILROOM_MAILBOX_NOT_FOUND', `There is no mailroom mailbox ${id}.`);
    return row;
  }

  const columns = (m: MailboxInput, now: number) => ({
    name: m.name,
    host: m.host,
    port: m.port,
    tls: m.tls ? 1 : 0,
    username: m.username,
    folders: JSON.stringify(m.folders),
    scan: m.scan,
    scan_since: m.scanSince ? Date.parse(m.scanSince) : null,
    after_scan: m.afterScan,
    move_to: m.afterScan === 'move' ? (m.moveTo ?? null) : null,
    poll_seconds: m.pollSeconds,
    enabled: m.enabled ? 1 : 0,
    updated_at: now,
  });

  const auditDetails = (m: MailboxInput) => ({
    name: m.name,
    host: m.host,
    port: m.port,
    tls: m.tls,
    username: m.username,
    folders: m.folders,
    passwordChanged: m.password !== undefined,
  });

  r.get(
    '/mailroom/mailboxes',
    {
      config: admin,
      schema: {
        tags,
        summary: 'The IMAP mailboxes the mailroom polls',
        response: { 200: z.object({ items: z.array(mailboxSchema) }) },
      },
    },
    async () => {
      const rows = await db.selectFrom('mailroom_mailboxes').selectAll().orderBy('id').execute();
      return { items: rows.map((row) => present(toMailbox(row))) };
    },
  );

  r.post(
    '/mailroom/mailboxes',
    {
      config: admin,
      schema: {
        tags,
        summary: 'Add a mailbox (the password is stored encrypted)',
        body: mailboxInputSchema,
        response: { 201: mailboxSchema },
      },
    },
    async (req, reply) => {
      const m = req.body;
      if (!m.password)
        throw mailroomError('MAILROOM_MAILBOX_INVALID', 'A new mailbox needs its password.', {
          details: { field: 'password' },
        });
      const now = ctx.clock.now();
      const id = await transaction(db, async (trx) => {
        const row = await trx
          .insertInto('mailroom_mailboxes')
          .values({
            ...columns(m, now),
            password_sealed: ctx.secrets.encrypt(m.password!),
            created_at: now,
            next_poll_at: now,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        await recordAudit(
          trx,
          actorFromRequest(req),
          {
            action: 'mailroom.mailbox_created',
            target: { type: 'mailroom_mailbox', id: row.id },
            details: auditDetails(m),
          },
          now,
        );
        return row.id;
      });
      return reply.code(201).send(present(toMailbox(await load(id))));
    },
  );

  r.put(
    '/mailroom/mailboxes/:id',
    {
      config: admin,
      schema: {
        tags,
        summary: 'Change a mailbox; leave the password out to keep the stored one',
        params: idParam,
        body: mailboxInputSchema,
        response: { 200: mailboxSchema },
      },
    },
    async (req) => {
      const { id } = req.params;
      const before = await load(id);
      const m = req.body;
      const now = ctx.clock.now();
      await transaction(db, async (trx) => {
        await trx
          .updateTable('mailroom_mailboxes')
          .set({
            ...columns(m, now),
            ...(m.password ? { password_sealed: ctx.secrets.encrypt(m.password) } : {}),
            // a changed server or account starts from a clean slate: no backoff, poll soon
            ...(before.host !== m.host || before.username !== m.username || m.password
              ? { failures: 0, last_error: null, next_poll_at: now }
              : {}),
          })
          .where('id', '=', id)
          .execute();
        await recordAudit(
          trx,
          actorFromRequest(req),
          {
            action: 'mailroom.mailbox_updated',
            target: { type: 'mailroom_mailbox', id },
            details: auditDetails(m),
          },
          now,
        );
      });
      return present(toMailbox(await load(id)));
    },
  );

  r.delete(
    '/mailroom/mailboxes/:id',
    {
      config: admin,
      schema: {
        tags,
        summary: 'Remove a mailbox (its processed-message log stays)',
        params: idParam,
        response: { 204: z.null() },
      },
    },
    async (req, reply) => {
      const { id } = req.params;
      const row = await load(id);
      await transaction(db, async (trx) => {
        await trx.deleteFrom('mailroom_folder_state').where('mailbox_id', '=', id).execute();
        await trx
          .updateTable('mailroom_messages')
          .set({ mailbox_id: null })
          .where('mailbox_id', '=', id)
          .execute();
        await trx.deleteFrom('mailroom_mailboxes').where('id', '=', id).execute();
        await recordAudit(
          trx,
          actorFromRequest(req),
          {
            action: 'mailroom.mailbox_deleted',
            target: { type: 'mailroom_mailbox', id },
            details: { name: row.name },
          },
          ctx.clock.now(),
        );
      });
      return reply.code(204).send(null);
    },
  );

  r.post(
    '/mailroom/mailboxes/test',
    {
      config: admin,
      schema: {
        tags,
        summary:
          'Test connection settings before saving: says which step failed (DNS, connect, TLS, login, folder)',
        body: mailboxInputSchema,
        response: { 200: checkSchema },
      },
    },
    async (req) => {
      if (!req.body.password)
        throw mailroomError('MAILROOM_MAILBOX_INVALID', 'Give the password to test with.', {
          details: { field: 'password' },
        });
      return testConnection(req.body, req.body.password);
    },
  );

  r.post(
    '/mailroom/mailboxes/:id/test',
    {
      config: admin,
      schema: {
        tags,
        summary: 'Test a saved mailbox with its stored password',
        params: idParam,
        response: { 200: checkSchema },
      },
    },
    async (req) => {
      const row = await load(req.params.id);
      return testConnection(toMailbox(row), ctx.secrets.decrypt(row.password_sealed));
    },
  );

  r.post(
    '/mailroom/mailboxes/:id/poll',
    {
      config: admin,
      schema: {
        tags,
        summary: 'Poll a mailbox now (if no other process is polling it)',
        params: idParam,
        response: {
          200: z.object({
            polled: z.boolean().describe('false when another process holds the mailbox'),
            fetched: z.number(),
            claimed: z.number(),
            duplicates: z.number(),
            oversize: z.number(),
            error: z.string().nullable(),
          }),
        },
      },
    },
    async (req) => {
      await load(req.params.id);
      try {
        const res = await pollMailbox(ctx, req.params.id);
        if (!res) return { polled: false, fetched: 0, claimed: 0, duplicates: 0, oversize: 0, error: null };
        return { polled: true, ...res, error: null };
      } catch (err) {
        return {
          polled: true,
          fetched: 0,
          claimed: 0,
          duplicates: 0,
          oversize: 0,
          error: (err as Error).message,
        };
      }
    },
  );
}
