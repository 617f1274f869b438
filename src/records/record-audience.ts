import type { Transaction } from 'kysely';
import type { AppContext } from '../context.js';
import type { Database } from '../db/schema.js';
import { contextInTransaction } from '../db/unit-of-work.js';
import {
  canUseModule,
  type Principal,
  type RecordScope,
  recordScope,
  type SharingAccess,
  scopeAllows,
} from '../roles/permissions.js';
import type { FieldValue } from './field-coerce.js';
import { loadModuleMeta, type ModuleMeta } from './module-meta.js';
import type { CrmRecord } from './record.model.js';
import { moduleSharing } from './record-access.js';
import type { FieldChanges } from './record-change.model.js';
import { moduleViewFor, type PresentedRecord, presentRecord, presentValue } from './record-presenter.js';

/** A record change as one receiving user may see it (webhooks, and any other push channel). */
export interface PresentedChange {
  meta: ModuleMeta;
  record: PresentedRecord;
  changes: Record<string, [unknown, unknown]>;
}

/**
 * Presents record changes for users other than the writer, inside the writer's transaction: module
 * metadata, sharing defaults and owners' role paths are read once per audience and through the
 * transaction (on SQLite another connection would wait for this one). Answers null when the receiver may
 * not view the module or may not see the record (sharing, as it stands after the change; the record as it
 * was, for a delete). Every value goes through the receiver's `ModuleView`, so masking applies too.
 */
export class ChangeAudience {
  private readonly metas = new Map<string, ModuleMeta>();
  private readonly sharing = new Map<string, SharingAccess>();
  private readonly ownerPaths = new Map<number, string>();

  constructor(
    private readonly ctx: AppContext,
    private readonly trx: Transaction<Database>,
  ) {}

  async present(
    viewer: Principal,
    module: string,
    rec: CrmRecord,
    changes: FieldChanges,
  ): Promise<PresentedChange | null> {
    if (!canUseModule(viewer, module, 'view')) return null;
    const meta = await this.meta(module);
    // read only what the decision needs: an admin sees every record, and the owner's role path matters
    // only when sharing limits the viewer to their own records and their subordinates'
    const scope: RecordScope = viewer.isAdmin
      ? { kind: 'all' }
      : recordScope(viewer, module, 'view', await this.sharingOf(module));
    const needsPath = scope.kind === 'own-and-subordinates' && rec.ownerId !== viewer.userId;
    const ownerRolePath = needsPath ? await this.ownerPath(rec.ownerId) : '';
    if (!scopeAllows(scope, { ownerId: rec.ownerId, ownerRolePath })) return null;
    // the masking rules are read through the transaction too
    const view = await moduleViewFor(contextInTransaction(this.ctx, this.trx), viewer, meta);
    const shownChanges: Record<string, [unknown, unknown]> = {};
    for (const [field, [before, after]] of Object.entries(changes)) {
      shownChanges[field] = meta.fieldMap.has(field)
        ? [presentValue(view, field, before as FieldValue), presentValue(view, field, after as FieldValue)]
        : [before, after];
    }
    return { meta, record: presentRecord(view, rec), changes: shownChanges };
  }

  private async meta(module: string): Promise<ModuleMeta> {
    let m = this.metas.get(module) ?? this.ctx.authCache.getModule(module);
    if (!m) m = await loadModuleMeta(this.trx, module);
    this.metas.set(module, m);
    return m;
  }

  private async sharingOf(module: string): Promise<SharingAccess> {
    let s = this.sharing.get(module) ?? this.ctx.authCache.getSharing(module);
    if (!s) s = await moduleSharing(this.trx, module);
    this.sharing.set(module, s);
    return s;
  }

  private async ownerPath(ownerId: number): Promise<string> {
    const known = this.ownerPaths.get(ownerId);
    if (known !== undefined) return known;
    const row = await this.trx
      .selectFrom('users as u')
      .innerJoin('roles as r', 'r.id', 'u.role_id')
      .select('r.path')
      .where('u.id', '=', ownerId)
      .executeTakeFirst();
    const path = row?.path ?? '/';
    this.ownerPaths.set(ownerId, path);
    return path;
  }
}
