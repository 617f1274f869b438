import type { AppContext } from '../context.js';
import { type Principal, scopeAllows } from '../roles/permissions.js';
import type { FieldValue } from './field-coerce.js';
import type { ModuleRef } from './module-meta.js';
import { recordError } from './record.errors.js';
import { entityWithOwnerRole } from './record.repository.js';
import { scopeFor } from './record-access.js';
import type { ChangeChannel, RecordAction } from './record-change.model.js';
import { selectChanges } from './record-history.repository.js';
import { presentValue } from './record-presenter.js';
import { viewModule } from './record-read.service.js';

export interface HistoryEntry {
  id: number;
  at: number;
  action: RecordAction;
  actor: { id: number | null; name: string | null };
  /** the administrator who made the change while logged in as the actor */
  impersonator: string | null;
  channel: ChangeChannel;
  source: string | null;
  /** each changed field with its label, old and new value as the viewer may see them */
  changes: Array<{ field: string; label: string; old: unknown; new: unknown }>;
}

export interface HistoryPage {
  items: HistoryEntry[];
  /** pass as `before` for the next (older) page */
  nextBefore: number | null;
}

/**
 * A record's history, newest first, for a viewer who may see the record — deleted records too, so their
 * deletion can be read. Values go through the viewer's module view, as every other read does.
 */
export async function recordHistory(
  ctx: AppContext,
  p: Principal,
  module: ModuleRef,
  id: number,
  opts: { limit: number; before?: number },
): Promise<HistoryPage> {
  const view = await viewModule(ctx, p, module);
  const { meta } = view;
  const [scope, entity] = await Promise.all([
    scopeFor(ctx, p, meta.name, 'view'),
    entityWithOwnerRole(ctx.db.kysely, id),
  ]);
  if (
    !entity ||
    entity.module !== meta.name ||
    !scopeAllows(scope, { ownerId: entity.owner_id, ownerRolePath: entity.path ?? '' })
  )
    throw recordError('RECORD_NOT_FOUND', `There is no ${meta.singular} ${id}.`);
  const rows = await selectChanges(ctx.db.kysely, id, { limit: opts.limit + 1, before: opts.before });
  const items = rows.slice(0, opts.limit).map((r): HistoryEntry => {
    const changes = JSON.parse(r.changes) as Record<string, [unknown, unknown]>;
    return {
      id: r.id,
      at: r.at,
      action: r.action as RecordAction,
      actor: { id: r.actor_user_id, name: r.actor_name },
      impersonator: r.impersonator_name,
      channel: r.channel as ChangeChannel,
      source: r.source,
      changes: Object.entries(changes).map(([field, [oldValue, newValue]]) => ({
        field,
        label: field === 'lineItems' ? 'Line items' : (meta.fieldMap.get(field)?.label ?? field),
        old: presentValue(view, field, oldValue as FieldValue),
        new: presentValue(view, field, newValue as FieldValue),
      })),
    };
  });
  return { items, nextBefore: rows.length > opts.limit ? items[items.length - 1]!.id : null };
}
