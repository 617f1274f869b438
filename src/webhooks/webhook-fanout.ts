import type { AppContext } from '../context.js';
import type { UnitOfWork } from '../db/unit-of-work.js';
import type { StoredEvent } from '../events/event.model.js';
import type { EventSubscriber } from '../events/event-bus.js';
import type { CrmRecord } from '../records/record.model.js';
import { restRecord } from '../records/record.view.js';
import { ChangeAudience } from '../records/record-audience.js';
import type { FieldChanges } from '../records/record-change.model.js';
import type { Principal } from '../roles/permissions.js';
import { loadPrincipal } from '../roles/role.repository.js';
import { findUserById } from '../users/user.repository.js';
import { insertWebhookEvents, type NewWebhookEvent, sendingSubscriptions } from './webhook.repository.js';
import type { WebhookSubscription } from './webhook.table.js';

interface RecordEventPayload {
  module: string;
  id: number;
  operation: 'created' | 'updated' | 'deleted';
  record: CrmRecord;
  changes: FieldChanges;
}

/** `contacts.updated`: the module in lower case and the operation. */
export function eventTypeOf(module: string, operation: string): string {
  return `${module.toLowerCase()}.${operation}`;
}

/**
 * The webhooks that may send, from the auth cache while fresh (every record write needs them; a webhook's
 * change and its owner's clear the cache after commit, on other replicas by NOTIFY, at the latest at their
 * next poll of the auth version). A change that alters users itself (a deletion moving records to another
 * owner) reads them in its own transaction, as it leaves them, and caches nothing: it may still roll back.
 */
async function subscriptions(ctx: AppContext, uow: UnitOfWork): Promise<readonly WebhookSubscription[]> {
  if (uow.authTouched) return sendingSubscriptions(uow.trx);
  return ctx.authCache.subscriptionsThrough(uow.trx, () => sendingSubscriptions(uow.trx));
}

/**
 * Turns record events into webhook events inside the writer's transaction: one row per event and owner of
 * subscribed webhooks, its body presented for that owner (modules they may view, records they may see,
 * masked as they see them), listing which of their webhooks it is for. Nothing is written for a webhook
 * that is off or whose owner may not send (off means off: such events are not kept for later). The sender,
 * woken after commit, turns each row into one delivery per webhook (`expandWebhookEvents`): the write pays
 * for one row however many webhooks listen.
 */
export function webhookFanOut(ctx: AppContext): EventSubscriber {
  return {
    name: 'webhooks',
    async inTransaction(uow: UnitOfWork, events: readonly StoredEvent[]): Promise<void> {
      const recordEvents = events.filter((e) => e.type.startsWith('record.') && e.module);
      if (recordEvents.length === 0) return;
      const modules = new Set(recordEvents.map((e) => e.module!));
      const hooks = (await subscriptions(ctx, uow)).filter((h) => h.module === '*' || modules.has(h.module));
      if (hooks.length === 0) return;
      const audience = new ChangeAudience(ctx, uow.trx);
      const principals = new Map<number, Principal | null>();
      const principalOf = async (userId: number): Promise<Principal | null> => {
        if (principals.has(userId)) return principals.get(userId)!;
        let p: Principal | null = ctx.authCache.getPrincipal(userId) ?? null;
        if (!p) {
          const user = await findUserById(uow.trx, userId);
          p = user ? await loadPrincipal(uow.trx, user) : null;
        }
        principals.set(userId, p);
        return p;
      };
      /** The JSON body as `userId` sees the change; null when they may not see the record at all. */
      const presentFor = async (
        userId: number,
        at: number,
        type: string,
        data: RecordEventPayload,
      ): Promise<string | null> => {
        const viewer = await principalOf(userId);
        if (!viewer) return null;
        const shown = await audience.present(viewer, data.module, data.record, data.changes);
        if (!shown) return null;
        return JSON.stringify({
          type,
          timestamp: new Date(at).toISOString(),
          data: {
            module: data.module,
            id: data.id,
            operation: data.operation,
            record: restRecord(shown.meta, shown.record),
            changes: shown.changes,
            ...(shown.record.masked?.length ? { masked: shown.record.masked } : {}),
          },
        });
      };
      const rows: NewWebhookEvent[] = [];
      for (const event of recordEvents) {
        const data = event.payload as unknown as RecordEventPayload;
        const type = eventTypeOf(data.module, data.operation);
        // the body depends only on the owner's view: one row per owner, listing their subscribed webhooks
        const byOwner = new Map<number, number[]>();
        for (const hook of hooks) {
          if (hook.module !== '*' && hook.module !== data.module) continue;
          if (!hook.operations.includes(data.operation)) continue;
          const ids = byOwner.get(hook.user_id);
          if (ids) ids.push(hook.id);
          else byOwner.set(hook.user_id, [hook.id]);
        }
        for (const [userId, ids] of byOwner) {
          const payload = await presentFor(userId, event.createdAt, type, data);
          if (payload === null) continue;
          rows.push({
            user_id: userId,
            webhook_ids: ids.join(','),
            event_type: type,
            record_id: data.id,
            payload,
            created_at: uow.now,
          });
        }
      }
      if (rows.length === 0) return;
      await insertWebhookEvents(uow.trx, rows);
      uow.onCommit(() => ctx.webhookSender.kick(true));
    },
  };
}
