import type { AuditActor } from '../audit/audit.repository.js';
import { recordAudit } from '../audit/audit.repository.js';
import type { AppContext } from '../context.js';
import { transaction } from '../db/direct-transaction.js';
import { withUnitOfWork } from '../db/unit-of-work.js';
import { isModuleName } from '../records/module-meta.js';
import { canUseModule } from '../roles/permissions.js';
import { principalFor } from '../roles/principal.js';
import type { User } from '../users/user.model.js';
import type { UserRemovalHook } from '../users/user-removal.js';
import { webhookError } from './webhook.errors.js';
import {
  deleteWebhookMessages,
  deleteWebhookRow,
  findWebhook,
  insertDeliveries,
  insertWebhook,
  requeueFailedSince,
  updateWebhookRow,
} from './webhook.repository.js';
import type { WebhookRow } from './webhook.table.js';
import { generateWebhookSecret, newMessageId } from './webhook-signing.js';
import { parseWebhookUrl, TargetRefused } from './webhook-target.js';

export const OPERATIONS = ['created', 'updated', 'deleted'] as const;
export type Operation = (typeof OPERATIONS)[number];
/** how long the previous secret keeps signing after a rotation (Svix's default) */
export const ROTATION_OVERLAP_MS = 24 * 3_600_000;
export const MAX_WEBHOOKS_PER_USER = 50;

export interface WebhookInput {
  url?: string;
  module?: string;
  operations?: Operation[];
  description?: string | null;
  enabled?: boolean;
}

/** The URL's shape, then its host against the SSRF policy (resolved now; the connection checks again). */
async function checkUrl(ctx: AppContext, raw: string): Promise<string> {
  const url = parseWebhookUrl(raw);
  if (typeof url === 'string')
    throw webhookError('WEBHOOK_URL_INVALID', `url ${url}.`, { details: { field: 'url' } });
  try {
    await ctx.webhookPolicy.checkUrl(url);
  } catch (err) {
    if (err instanceof TargetRefused)
      throw webhookError('WEBHOOK_URL_REFUSED', `url refused: ${err.message}.`, {
        details: { field: 'url' },
      });
    throw err;
  }
  return url.toString();
}

/** `*` or a module the owner may view (custom fields come with the module). */
async function checkModule(ctx: AppContext, owner: User, module: string): Promise<string> {
  if (module === '*') return module;
  if (!isModuleName(module))
    throw webhookError('WEBHOOK_MODULE_INVALID', `module: there is no module "${module.slice(0, 80)}".`, {
      details: { field: 'module' },
    });
  const principal = await principalFor(ctx, owner);
  if (!canUseModule(principal, module, 'view'))
    throw webhookError(
      'WEBHOOK_MODULE_INVALID',
      `module: ${owner.username} may not view ${module}, so a webhook of theirs cannot subscribe to it.`,
      { details: { field: 'module' } },
    );
  return module;
}

function checkOperations(ops: readonly string[]): string {
  const unique = [...new Set(ops)];
  if (unique.length === 0)
    throw webhookError(
      'WEBHOOK_OPERATIONS_INVALID',
      'operations: choose at least one of created, updated, deleted.',
      {
        details: { field: 'operations' },
      },
    );
  return OPERATIONS.filter((o) => unique.includes(o)).join(',');
}

export async function createWebhook(
  ctx: AppContext,
  actor: AuditActor,
  owner: User,
  input: Required<Pick<WebhookInput, 'url' | 'module' | 'operations'>> & WebhookInput,
): Promise<{ row: WebhookRow; secret: string }> {
  const url = await checkUrl(ctx, input.url);
  const module = await checkModule(ctx, owner, input.module);
  const operations = checkOperations(input.operations);
  const secret = generateWebhookSecret();
  const now = ctx.clock.now();
  const id = await withUnitOfWork(ctx, actor, async (uow) => {
    const { trx } = uow;
    // the webhooks that may send are cached with auth (every record write reads them)
    uow.invalidatesAuth();
    const count = await trx
      .selectFrom('webhooks')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('user_id', '=', owner.id)
      .executeTakeFirstOrThrow();
    if (Number(count.n) >= MAX_WEBHOOKS_PER_USER)
      throw webhookError('TOO_MANY_WEBHOOKS', `A user may have at most ${MAX_WEBHOOKS_PER_USER} webhooks.`);
    const newId = await insertWebhook(trx, {
      user_id: owner.id,
      url,
      module,
      operations,
      description: input.description ?? null,
      enabled: input.enabled === false ? 0 : 1,
      disabled_reason: null,
      secret_sealed: ctx.secrets.encrypt(secret),
      previous_secret_sealed: null,
      previous_secret_expires_at: null,
      failing_since: null,
      created_at: now,
      updated_at: now,
    });
    await recordAudit(
      trx,
      actor,
      {
        action: 'webhook.created',
        target: { type: 'webhook', id: newId },
        details: { userId: owner.id, url, module, operations, enabled: input.enabled !== false },
      },
      now,
    );
    return newId;
  });
  return { row: (await findWebhook(ctx.db.kysely, id))!, secret };
}

export async function updateWebhook(
  ctx: AppContext,
  actor: AuditActor,
  owner: User,
  hook: WebhookRow,
  input: WebhookInput,
): Promise<WebhookRow> {
  const patch: Parameters<typeof updateWebhookRow>[2] = {};
  if (input.url !== undefined) patch.url = await checkUrl(ctx, input.url);
  if (input.module !== undefined) patch.module = await checkModule(ctx, owner, input.module);
  if (input.operations !== undefined) patch.operations = checkOperations(input.operations);
  if (input.description !== undefined) patch.description = input.description;
  if (input.enabled !== undefined) {
    patch.enabled = input.enabled ? 1 : 0;
    patch.disabled_reason = null;
    if (input.enabled) patch.failing_since = null;
  }
  const now = ctx.clock.now();
  patch.updated_at = now;
  await withUnitOfWork(ctx, actor, async (uow) => {
    const { trx } = uow;
    // the webhooks that may send are cached with auth (every record write reads them)
    uow.invalidatesAuth();
    await updateWebhookRow(trx, hook.id, patch);
    const changed = Object.keys(input).filter((k) => (input as Record<string, unknown>)[k] !== undefined);
    const toggled =
      input.enabled !== undefined && Boolean(hook.enabled) !== input.enabled
        ? input.enabled
          ? 'webhook.enabled'
          : 'webhook.disabled'
        : null;
    await recordAudit(
      trx,
      actor,
      {
        action: toggled ?? 'webhook.updated',
        target: { type: 'webhook', id: hook.id },
        details: { userId: hook.user_id, fields: changed, ...(patch.url ? { url: patch.url } : {}) },
      },
      now,
    );
  });
  return (await findWebhook(ctx.db.kysely, hook.id))!;
}

/**
 * A webhook's messages are deleted this many to a transaction (`deleteWebhook`). On SQLite a statement holds
 * the event loop, so small batches (a few ms each); PostgreSQL's run beside it, where small batches would
 * only add round trips.
 */
export const DELETE_BATCH = { sqlite: 1000, postgres: 20_000 } as const;

/**
 * Deletes a webhook with its messages. A busy webhook keeps millions (30 days of them), and deleting them in
 * one transaction held the database that long, and on SQLite the event loop: 5.9 s for 1,000,000 messages,
 * every request waiting. So the webhook is switched off first (no new messages), its messages go `batch` at a
 * time, a transaction each with the event loop turning between them, and the webhook goes last, audited, with
 * whatever was queued for it meanwhile. Should the process stop halfway, the webhook is left switched off
 * with part of its history: deleting it again finishes the job.
 */
export async function deleteWebhook(
  ctx: AppContext,
  actor: AuditActor,
  hook: WebhookRow,
  batch: number = DELETE_BATCH[ctx.db.dialect],
): Promise<void> {
  await withUnitOfWork(ctx, actor, async (uow) => {
    // the webhooks that may send are cached with auth (every record write reads them)
    uow.invalidatesAuth();
    await updateWebhookRow(uow.trx, hook.id, { enabled: 0 });
  });
  for (let after: number | null = 0; after !== null; ) {
    const from: number = after;
    after = await transaction(ctx.db.kysely, (trx) => deleteWebhookMessages(trx, hook.id, batch, from));
    await new Promise((r) => setImmediate(r));
  }
  const now = ctx.clock.now();
  await withUnitOfWork(ctx, actor, async (uow) => {
    const { trx } = uow;
    uow.invalidatesAuth();
    // deleted meanwhile by another request: that one answered and audited it
    if (!(await deleteWebhookRow(trx, hook.id)))
      throw webhookError('WEBHOOK_NOT_FOUND', `There is no webhook ${hook.id}.`);
    await recordAudit(
      trx,
      actor,
      {
        action: 'webhook.deleted',
        target: { type: 'webhook', id: hook.id },
        details: { userId: hook.user_id, url: hook.url },
      },
      now,
    );
  });
}

/** A new secret; the previous one keeps signing for 24 h so receivers can switch without losing messages. */
export async function rotateSecret(ctx: AppContext, actor: AuditActor, hook: WebhookRow): Promise<string> {
  const secret = generateWebhookSecret();
  const now = ctx.clock.now();
  await transaction(ctx.db.kysely, async (trx) => {
    await updateWebhookRow(trx, hook.id, {
      secret_sealed: ctx.secrets.encrypt(secret),
      previous_secret_sealed: hook.secret_sealed,
      previous_secret_expires_at: now + ROTATION_OVERLAP_MS,
      updated_at: now,
    });
    await recordAudit(
      trx,
      actor,
      {
        action: 'webhook.secret_rotated',
        target: { type: 'webhook', id: hook.id },
        details: { userId: hook.user_id },
      },
      now,
    );
  });
  return secret;
}

/** Queues a `webhook.test` message (sent like any delivery: signed, SSRF-checked at connect time). */
export async function sendTestEvent(
  ctx: AppContext,
  actor: AuditActor,
  hook: WebhookRow,
): Promise<{ deliveryId: number; msgId: string }> {
  const now = ctx.clock.now();
  const msgId = newMessageId();
  const body = {
    type: 'webhook.test',
    timestamp: new Date(now).toISOString(),
    data: { webhookId: hook.id, message: 'This is a test event from Rapport.' },
  };
  const [deliveryId] = await transaction(ctx.db.kysely, async (trx) => {
    const ids = await insertDeliveries(trx, [
      {
        webhook_id: hook.id,
        msg_id: msgId,
        event_type: 'webhook.test',
        record_id: null,
        payload: JSON.stringify(body),
        status: 'pending',
        next_attempt_at: now,
        created_at: now,
      },
    ]);
    await recordAudit(
      trx,
      actor,
      { action: 'webhook.test_sent', target: { type: 'webhook', id: hook.id }, details: { msgId } },
      now,
    );
    return ids;
  });
  ctx.webhookSender.kick();
  return { deliveryId: deliveryId!, msgId };
}

/** Sends one message again (same webhook-id), with a fresh retry schedule. */
export async function redeliver(
  ctx: AppContext,
  actor: AuditActor,
  hook: WebhookRow,
  deliveryId: number,
): Promise<void> {
  const now = ctx.clock.now();
  await transaction(ctx.db.kysely, async (trx) => {
    const res = await trx
      .updateTable('webhook_deliveries')
      .set({ status: 'pending', attempts: 0, next_attempt_at: now, claimed_until: null, finished_at: null })
      .where('id', '=', deliveryId)
      .where('webhook_id', '=', hook.id)
      .where('status', '!=', 'pending')
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) === 0) {
      const exists = await trx
        .selectFrom('webhook_deliveries')
        .select('status')
        .where('id', '=', deliveryId)
        .where('webhook_id', '=', hook.id)
        .executeTakeFirst();
      if (!exists)
        throw webhookError('DELIVERY_NOT_FOUND', `Webhook ${hook.id} has no message ${deliveryId}.`);
      throw webhookError(
        'DELIVERY_PENDING',
        `Message ${deliveryId} is still being delivered (it is pending).`,
      );
    }
    await recordAudit(
      trx,
      actor,
      { action: 'webhook.redelivered', target: { type: 'webhook', id: hook.id }, details: { deliveryId } },
      now,
    );
  });
  ctx.webhookSender.kick();
}

/** Sends every failed or cancelled message since `since` again; answers how many. */
export async function recoverSince(
  ctx: AppContext,
  actor: AuditActor,
  hook: WebhookRow,
  since: number,
): Promise<number> {
  const now = ctx.clock.now();
  const n = await transaction(ctx.db.kysely, async (trx) => {
    const res = await requeueFailedSince(trx, hook.id, since, now).executeTakeFirst();
    const count = Number(res.numUpdatedRows);
    await recordAudit(
      trx,
      actor,
      {
        action: 'webhook.recovered',
        target: { type: 'webhook', id: hook.id },
        details: { since: new Date(since).toISOString(), messages: count },
      },
      now,
    );
    return count;
  });
  if (n > 0) ctx.webhookSender.kick();
  return n;
}

/**
 * A deleted user's webhooks send nothing (the owner check refuses them) and their queued messages are
 * cancelled; a permanent delete removes the webhooks with their messages and attempts.
 */
export const webhooksUserRemoval: UserRemovalHook = {
  feature: 'webhooks',
  async deleted({ trx, now }, removal) {
    // events not yet expanded would only become cancelled deliveries
    await trx.deleteFrom('webhook_events').where('user_id', '=', removal.userId).execute();
    await trx
      .updateTable('webhook_deliveries')
      .set({ status: 'cancelled', finished_at: now, last_error: 'not sent: the webhook owner was deleted' })
      .where('status', '=', 'pending')
      .where(
        'webhook_id',
        'in',
        trx.selectFrom('webhooks').select('id').where('user_id', '=', removal.userId),
      )
      .execute();
    return undefined;
  },
  async purged({ trx }, removal) {
    await trx.deleteFrom('webhook_events').where('user_id', '=', removal.userId).execute();
    const ids = (
      await trx.selectFrom('webhooks').select('id').where('user_id', '=', removal.userId).execute()
    ).map((r) => r.id);
    for (const id of ids) await deleteWebhookRow(trx, id);
  },
};
