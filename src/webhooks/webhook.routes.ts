import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorFromRequest, recordAudit } from '../audit/audit.repository.js';
import type { AppContext } from '../context.js';
import { selfOrAdmin } from '../users/self-or-admin.js';
import type { User } from '../users/user.model.js';
import { findUserById } from '../users/user.repository.js';
import { resolveUserId, userIdParam } from '../users/user.routes.js';
import { webhookError } from './webhook.errors.js';
import {
  findDelivery,
  findWebhook,
  listAttempts,
  listDeliveries,
  listWebhooks,
  operationsOf,
} from './webhook.repository.js';
import {
  createWebhook,
  deleteWebhook,
  OPERATIONS,
  recoverSince,
  redeliver,
  rotateSecret,
  sendTestEvent,
  updateWebhook,
} from './webhook.service.js';
import type { WebhookAttemptRow, WebhookDeliveryRow, WebhookRow } from './webhook.table.js';

const iso = (ms: number | null | undefined) => (ms == null ? null : new Date(ms).toISOString());

const webhookSchema = z
  .object({
    id: z.number().int(),
    userId: z.number().int(),
    url: z.string(),
    module: z.string().describe('a module name (Contacts, Leads…), or * for every module the owner may view'),
    operations: z.array(z.enum(OPERATIONS)),
    description: z.string().nullable(),
    enabled: z.boolean(),
    status: z.enum(['Active', 'Inactive']).describe('Inactive webhooks send nothing'),
    disabledReason: z.string().nullable().describe('set when Rapport switched the webhook off'),
    failingSince: z.string().nullable(),
    secretRotatingUntil: z.string().nullable().describe('the previous secret also signs until then'),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Webhook' });

function webhookView(w: WebhookRow): z.infer<typeof webhookSchema> {
  const now = Date.now();
  return {
    id: w.id,
    userId: w.user_id,
    url: w.url,
    module: w.module,
    operations: operationsOf(w) as Array<(typeof OPERATIONS)[number]>,
    description: w.description,
    enabled: Boolean(w.enabled),
    status: w.enabled ? 'Active' : 'Inactive',
    disabledReason: w.disabled_reason,
    failingSince: iso(w.failing_since),
    secretRotatingUntil:
      w.previous_secret_expires_at !== null && w.previous_secret_expires_at > now
        ? iso(w.previous_secret_expires_at)
        : null,
    createdAt: iso(w.created_at)!,
    updatedAt: iso(w.updated_at)!,
  };
}

const deliverySchema = z
  .object({
    id: z.number().int(),
    msgId: z.string().describe('the webhook-id header, the same on every attempt'),
    eventType: z.string(),
    recordId: z.number().int().nullable(),
    status: z.enum(['pending', 'delivered', 'failed', 'cancelled']),
    attempts: z.number().int(),
    nextAttemptAt: z.string().nullable(),
    lastStatusCode: z.number().int().nullable(),
    lastError: z.string().nullable(),
    createdAt: z.string(),
    finishedAt: z.string().nullable(),
  })
  .meta({ id: 'WebhookDelivery' });

function deliveryView(d: WebhookDeliveryRow): z.infer<typeof deliverySchema> {
  return {
    id: d.id,
    msgId: d.msg_id,
    eventType: d.event_type,
    recordId: d.record_id,
    status: d.status,
    attempts: d.attempts,
    nextAttemptAt: d.status === 'pending' ? iso(d.next_attempt_at) : null,
    lastStatusCode: d.last_status_code,
    lastError: d.last_error,
    createdAt: iso(d.created_at)!,
    finishedAt: iso(d.finished_at),
  };
}

const attemptSchema = z
  .object({
    id: z.number().int(),
    at: z.string(),
    statusCode: z.number().int().nullable(),
    latencyMs: z.number().int(),
    error: z.string().nullable(),
    responseBody: z.string().nullable().describe('the first 4 KB of the response'),
    nextAttemptAt: z.string().nullable(),
  })
  .meta({ id: 'WebhookAttempt' });

function attemptView(a: WebhookAttemptRow): z.infer<typeof attemptSchema> {
  return {
    id: a.id,
    at: iso(a.at)!,
    statusCode: a.status_code,
    latencyMs: a.latency_ms,
    error: a.error,
    responseBody: a.response_body,
    nextAttemptAt: iso(a.next_attempt_at),
  };
}

const url = z.string().trim().min(1).max(2000).describe('http:// or https:// URL of the receiver');
const moduleName = z.string().trim().min(1).max(100);
const operations = z.array(z.enum(OPERATIONS)).min(1).max(3);
const description = z.string().trim().max(500).nullable();

const createBody = z.object({
  url,
  module: moduleName.default('*'),
  operations: operations.default(['created', 'updated', 'deleted']),
  description: description.optional(),
  enabled: z.boolean().default(true),
});
const patchBody = z.object({
  url: url.optional(),
  module: moduleName.optional(),
  operations: operations.optional(),
  description: description.optional(),
  enabled: z.boolean().optional(),
});
const idParam = z.object({ id: z.coerce.number().int().positive() });
const deliveryParam = z.object({
  id: z.coerce.number().int().positive(),
  deliveryId: z.coerce.number().int().positive(),
});

export async function webhookRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const db = ctx.db.kysely;
  const tags = ['Webhooks'];
  const authenticated = { access: 'authenticated' as const };

  /** The webhook, when the caller owns it or is an admin; otherwise 404 (existence is not revealed). */
  async function visibleWebhook(req: FastifyRequest, id: number): Promise<WebhookRow> {
    const hook = await findWebhook(db, id);
    const me = req.auth!.user;
    if (!hook || (hook.user_id !== me.id && !me.isAdmin))
      throw webhookError('WEBHOOK_NOT_FOUND', `There is no webhook ${id} that you can see.`);
    return hook;
  }

  /** Secrets are the owner's alone: admins switch webhooks off, they do not sign as their owners. */
  async function ownWebhook(req: FastifyRequest, id: number, what: string): Promise<WebhookRow> {
    const hook = await visibleWebhook(req, id);
    if (hook.user_id !== req.auth!.user.id)
      throw webhookError('PERMISSION_DENIED', `Only the webhook's owner can ${what}.`);
    return hook;
  }

  async function ownerOf(hook: WebhookRow): Promise<User> {
    const owner = await findUserById(db, hook.user_id);
    if (!owner) throw webhookError('WEBHOOK_NOT_FOUND', `There is no webhook ${hook.id} that you can see.`);
    return owner;
  }

  r.get(
    '/webhooks',
    {
      config: authenticated,
      schema: {
        tags,
        summary: "The caller's webhooks",
        response: { 200: z.object({ items: z.array(webhookSchema) }) },
      },
    },
    async (req) => ({ items: (await listWebhooks(db, req.auth!.user.id)).map(webhookView) }),
  );

  r.get(
    '/users/:id/webhooks',
    {
      config: authenticated,
      preValidation: selfOrAdmin('see the webhooks of'),
      schema: {
        tags,
        summary: "A user's webhooks (the user, or an admin: API Management → a user)",
        params: userIdParam,
        response: { 200: z.object({ items: z.array(webhookSchema) }) },
      },
    },
    async (req) => {
      const userId = resolveUserId(req, req.params.id);
      const user = await findUserById(db, userId);
      if (!user) throw webhookError('WEBHOOK_NOT_FOUND', `There is no user ${userId}.`);
      return { items: (await listWebhooks(db, userId)).map(webhookView) };
    },
  );

  r.post(
    '/webhooks',
    {
      config: authenticated,
      schema: {
        tags,
        summary:
          'Create a webhook for the caller. The answer holds its signing secret (whsec_…); the owner can read it again.',
        body: createBody,
        response: { 201: webhookSchema.extend({ secret: z.string().nullable() }) },
      },
    },
    async (req, reply) => {
      const { row, secret } = await createWebhook(ctx, actorFromRequest(req), req.auth!.user, {
        ...req.body,
        description: req.body.description ?? null,
      });
      // an admin logged in as the user sets the webhook up but does not see its secret
      return reply.code(201).send({ ...webhookView(row), secret: req.auth!.impersonator ? null : secret });
    },
  );

  r.get(
    '/webhooks/:id',
    {
      config: authenticated,
      schema: {
        tags,
        summary: 'Read a webhook (owner or admin)',
        params: idParam,
        response: { 200: webhookSchema },
      },
    },
    async (req) => webhookView(await visibleWebhook(req, req.params.id)),
  );

  r.patch(
    '/webhooks/:id',
    {
      config: authenticated,
      schema: {
        tags,
        summary: 'Change a webhook (owner); admins may switch anyone\'s on or off ({"enabled": false})',
        params: idParam,
        body: patchBody,
        response: { 200: webhookSchema },
      },
    },
    async (req) => {
      const hook = await visibleWebhook(req, req.params.id);
      const me = req.auth!.user;
      const fields = Object.keys(req.body).filter(
        (k) => (req.body as Record<string, unknown>)[k] !== undefined,
      );
      if (hook.user_id !== me.id && fields.some((f) => f !== 'enabled'))
        throw webhookError(
          'PERMISSION_DENIED',
          "Administrators can only switch another user's webhook on or off.",
        );
      return webhookView(
        await updateWebhook(ctx, actorFromRequest(req), await ownerOf(hook), hook, req.body),
      );
    },
  );

  r.delete(
    '/webhooks/:id',
    {
      config: authenticated,
      schema: {
        tags,
        summary: 'Delete a webhook with its messages (owner or admin)',
        params: idParam,
        response: { 204: z.null() },
      },
    },
    async (req, reply) => {
      await deleteWebhook(ctx, actorFromRequest(req), await visibleWebhook(req, req.params.id));
      return reply.code(204).send(null);
    },
  );

  r.get(
    '/webhooks/:id/secret',
    {
      config: authenticated,
      schema: {
        tags,
        summary: "The webhook's signing secret (owner only; audited)",
        params: idParam,
        response: { 200: z.object({ secret: z.string(), previousSecretValidUntil: z.string().nullable() }) },
      },
    },
    async (req) => {
      const hook = await ownWebhook(req, req.params.id, 'read its secret');
      await recordAudit(
        db,
        actorFromRequest(req),
        { action: 'webhook.secret_viewed', target: { type: 'webhook', id: hook.id } },
        ctx.clock.now(),
      );
      const now = ctx.clock.now();
      return {
        secret: ctx.secrets.decrypt(hook.secret_sealed),
        previousSecretValidUntil:
          hook.previous_secret_expires_at !== null && hook.previous_secret_expires_at > now
            ? iso(hook.previous_secret_expires_at)
            : null,
      };
    },
  );

  r.post(
    '/webhooks/:id/rotate-secret',
    {
      config: authenticated,
      schema: {
        tags,
        summary:
          'Rotate the signing secret (owner only): the old one keeps signing alongside the new for 24 h',
        params: idParam,
        response: { 200: z.object({ secret: z.string(), previousSecretValidUntil: z.string() }) },
      },
    },
    async (req) => {
      const hook = await ownWebhook(req, req.params.id, 'rotate its secret');
      const secret = await rotateSecret(ctx, actorFromRequest(req), hook);
      const after = (await findWebhook(db, hook.id))!;
      return { secret, previousSecretValidUntil: iso(after.previous_secret_expires_at)! };
    },
  );

  r.post(
    '/webhooks/:id/test',
    {
      config: authenticated,
      schema: {
        tags,
        summary: 'Send a webhook.test message now (owner or admin); see it under deliveries',
        params: idParam,
        response: { 202: z.object({ deliveryId: z.number().int(), msgId: z.string() }) },
      },
    },
    async (req, reply) => {
      const hook = await visibleWebhook(req, req.params.id);
      return reply.code(202).send(await sendTestEvent(ctx, actorFromRequest(req), hook));
    },
  );

  r.get(
    '/webhooks/:id/deliveries',
    {
      config: authenticated,
      schema: {
        tags,
        summary: "A webhook's messages, newest first (owner or admin)",
        params: idParam,
        querystring: z.object({
          status: z.enum(['pending', 'delivered', 'failed', 'cancelled']).optional(),
          limit: z.coerce.number().int().min(1).max(200).default(50),
          before: z.coerce.number().int().positive().optional().describe('messages with ids below this'),
        }),
        response: { 200: z.object({ items: z.array(deliverySchema) }) },
      },
    },
    async (req) => {
      const hook = await visibleWebhook(req, req.params.id);
      const rows = await listDeliveries(db, { webhookId: hook.id, ...req.query });
      return { items: rows.map(deliveryView) };
    },
  );

  r.get(
    '/webhooks/:id/deliveries/:deliveryId',
    {
      config: authenticated,
      schema: {
        tags,
        summary: 'One message with its body and every attempt (owner or admin)',
        params: deliveryParam,
        response: {
          200: deliverySchema.extend({ payload: z.unknown(), attemptLog: z.array(attemptSchema) }),
        },
      },
    },
    async (req) => {
      const hook = await visibleWebhook(req, req.params.id);
      const d = await findDelivery(db, hook.id, req.params.deliveryId);
      if (!d)
        throw webhookError(
          'DELIVERY_NOT_FOUND',
          `Webhook ${hook.id} has no message ${req.params.deliveryId}.`,
        );
      return {
        ...deliveryView(d),
        payload: JSON.parse(d.payload) as unknown,
        attemptLog: (await listAttempts(db, d.id)).map(attemptView),
      };
    },
  );

  r.post(
    '/webhooks/:id/deliveries/:deliveryId/redeliver',
    {
      config: authenticated,
      schema: {
        tags,
        summary: 'Send a message again, same webhook-id (owner or admin)',
        params: deliveryParam,
        response: { 202: z.object({ deliveryId: z.number().int() }) },
      },
    },
    async (req, reply) => {
      const hook = await visibleWebhook(req, req.params.id);
      await redeliver(ctx, actorFromRequest(req), hook, req.params.deliveryId);
      return reply.code(202).send({ deliveryId: req.params.deliveryId });
    },
  );

  r.post(
    '/webhooks/:id/recover',
    {
      config: authenticated,
      schema: {
        tags,
        summary: 'Send every failed message since a time again (owner or admin)',
        params: idParam,
        body: z.object({ since: z.iso.datetime({ offset: true }) }),
        response: { 202: z.object({ messages: z.number().int() }) },
      },
    },
    async (req, reply) => {
      const hook = await visibleWebhook(req, req.params.id);
      const messages = await recoverSince(ctx, actorFromRequest(req), hook, Date.parse(req.body.since));
      return reply.code(202).send({ messages });
    },
  );
}
