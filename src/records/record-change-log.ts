import type { UnitOfWork } from '../db/unit-of-work.js';
import type { FieldValue } from './field-coerce.js';
import type { ModuleMeta } from './module-meta.js';
import type { CrmRecord, LineItem } from './record.model.js';
import type { ChangeAuthor, FieldChanges, RecordAction } from './record-change.model.js';
import { sameValue } from './record-change.model.js';
import { insertChanges } from './record-history.repository.js';

/** Always different after a write; history would only repeat the entry's own time and author. */
const UNTRACKED = new Set(['modifiedtime', 'modifiedby', 'createdtime']);

/** One record's change: the record after it (before it, for a delete) and what changed. */
export interface RecordChange {
  action: RecordAction;
  record: CrmRecord;
  changes: FieldChanges;
}

/** The fields set on a new record, as `[null, value]`. */
export function creationChanges(meta: ModuleMeta, rec: CrmRecord): FieldChanges {
  const out: FieldChanges = {};
  for (const f of meta.fields) {
    const v = rec.fields[f.name];
    if (!UNTRACKED.has(f.name) && v !== null && v !== undefined && v !== '') out[f.name] = [null, v];
  }
  if (rec.lineItems?.length) out.lineItems = [null, lineSummary(rec.lineItems)];
  return out;
}

/** Fields whose value differs between two states of a record, as `[old, new]`. */
export function diffRecords(meta: ModuleMeta, before: CrmRecord, after: CrmRecord): FieldChanges {
  const out: FieldChanges = {};
  for (const f of meta.fields) {
    if (UNTRACKED.has(f.name)) continue;
    const a = before.fields[f.name] as FieldValue | undefined;
    const b = after.fields[f.name] as FieldValue | undefined;
    if (!sameValue(a, b)) out[f.name] = [a ?? null, b ?? null];
  }
  if (before.lineItems && after.lineItems) {
    const a = lineSummary(before.lineItems);
    const b = lineSummary(after.lineItems);
    if (JSON.stringify(a) !== JSON.stringify(b)) out.lineItems = [a, b];
  }
  return out;
}

function lineSummary(items: readonly LineItem[]) {
  return items.map((i) => ({
    product_id: i.productId,
    quantity: i.quantity,
    listprice: i.listprice,
    discount_percent: i.discountPercent,
    discount_amount: i.discountAmount,
    comment: i.comment,
  }));
}

/**
 * Writes what follows from record changes, in the change's unit of work: a history row per record, a
 * `record.<action>` domain event per live record (the stored record and the changes: subscribers present
 * it for their own viewer), and — unless `auditAs` summarises a bulk change itself — an audit entry each.
 */
export async function logRecordChanges(
  uow: UnitOfWork,
  w: ChangeAuthor,
  meta: ModuleMeta,
  changes: RecordChange[],
  opts: { audit?: boolean; emit?: boolean } = {},
): Promise<void> {
  const logged = changes.filter((c) => c.action !== 'updated' || Object.keys(c.changes).length > 0);
  if (logged.length === 0) return;
  const actor = w.actor;
  await insertChanges(
    uow.trx,
    logged.map((c) => ({
      record_id: c.record.id,
      module: meta.name,
      action: c.action,
      at: uow.now,
      actor_user_id: actor.userId,
      actor_name: actor.username,
      impersonator_name: actor.impersonatorName ?? null,
      channel: w.channel,
      source: w.source ?? null,
      request_id: actor.requestId,
      changes: JSON.stringify(c.changes),
    })),
  );
  for (const c of logged) {
    if (opts.emit !== false && (c.action === 'deleted' || c.record.deletedAt === null))
      uow.emit({
        type: `record.${c.action}`,
        module: meta.name,
        recordId: c.record.id,
        actorUserId: actor.userId,
        payload: {
          module: meta.name,
          id: c.record.id,
          operation: c.action,
          record: c.record,
          changes: c.changes,
          channel: w.channel,
          ...(w.source ? { source: w.source } : {}),
        },
      });
    if (opts.audit !== false)
      await uow.audit({
        action: `record.${c.action}`,
        target: { type: meta.name, id: c.record.id },
        // field names only: values may be masked for whoever reads the audit log
        details: { fields: Object.keys(c.changes), channel: w.channel },
      });
  }
}
