import type { Kysely, Transaction } from 'kysely';
import type { AppContext } from '../context.js';
import { prepared } from '../db/prepared.js';
import type { Database } from '../db/schema.js';
import {
  canAccessRecord,
  canUseModule,
  type ModuleAction,
  type Principal,
  type RecordScope,
  recordScope,
  type SharingAccess,
} from '../roles/permissions.js';
import type { FieldValue } from './field-coerce.js';
import type { ModuleMeta } from './module-meta.js';
import { recordError } from './record.errors.js';

type Q = Kysely<Database> | Transaction<Database>;

const ACTION_WORDS: Record<ModuleAction, string> = {
  view: 'see',
  create: 'create',
  edit: 'edit',
  delete: 'delete',
};

export async function moduleSharing(db: Q, module: string): Promise<SharingAccess> {
  const row = await db
    .selectFrom('sharing_defaults')
    .select('access')
    .where('module', '=', module)
    .executeTakeFirst();
  return row?.access ?? 'private';
}

/** 403 when the caller's profiles do not allow the action in the module at all. */
export function requireModule(p: Principal, meta: ModuleMeta, action: ModuleAction): void {
  if (!canUseModule(p, meta.name, action))
    throw recordError(
      'MODULE_PERMISSION_DENIED',
      `You do not have permission to ${ACTION_WORDS[action]} ${meta.label}.`,
    );
}

/** `moduleSharing` served from the auth cache while fresh (sharing changes clear it after commit: `uow.invalidatesAuth()`). */
export async function cachedModuleSharing(ctx: AppContext, module: string): Promise<SharingAccess> {
  return ctx.authCache.sharingThrough(module, ctx.db.kysely, () => moduleSharing(ctx.db.kysely, module));
}

/** Which records of `module` the caller may `action`: evaluated on every call, from cached inputs. */
export async function scopeFor(
  ctx: AppContext,
  p: Principal,
  module: string,
  action: ModuleAction,
): Promise<RecordScope> {
  // admins and refused callers do not depend on the sharing default: save the lookup
  if (p.isAdmin || !canUseModule(p, module, action)) return recordScope(p, module, action, 'private');
  return recordScope(p, module, action, await cachedModuleSharing(ctx, module));
}

/** Live records among `ids` with their module and owner's role path, for per-record permission checks. */
async function entitiesWithOwnerRole(db: Q, ids: number[]) {
  if (ids.length === 0) return [];
  return db
    .selectFrom('crm_entities as e')
    .innerJoin('users as u', 'u.id', 'e.owner_id')
    .innerJoin('roles as r', 'r.id', 'u.role_id')
    .select(['e.id', 'e.module', 'e.owner_id', 'r.path'])
    .where('e.id', 'in', ids)
    .where('e.deleted_at', 'is', null)
    .execute();
}

/** The ids among `ids` that are live records of `modules` the caller may see. */
export async function visibleIds(
  db: Q,
  p: Principal,
  ids: number[],
  modules: readonly string[],
): Promise<Set<number>> {
  const rows = await entitiesWithOwnerRole(db, [...new Set(ids)]);
  const out = new Set<number>();
  const sharingOf = new Map<string, SharingAccess>();
  for (const r of rows) {
    if (!modules.includes(r.module)) continue;
    const sharing = sharingOf.get(r.module) ?? (await moduleSharing(db, r.module));
    sharingOf.set(r.module, sharing);
    if (canAccessRecord(p, r.module, 'view', sharing, { ownerId: r.owner_id, ownerRolePath: r.path }))
      out.add(r.id);
  }
  return out;
}

/** Every reference must point to a live record of an allowed module that the caller can see. */
export async function checkReferences(
  db: Q,
  p: Principal,
  meta: ModuleMeta,
  values: ReadonlyMap<string, FieldValue>,
) {
  for (const [name, v] of values) {
    const field = meta.fieldMap.get(name);
    if (field?.type !== 'reference' || typeof v !== 'number') continue;
    const targets = field.refersTo ?? [];
    if (!(await visibleIds(db, p, [v], targets)).has(v))
      throw recordError(
        'REFERENCE_INVALID',
        `${name} (${field.label}): there is no ${targets.join(' or ')} record ${v} that you can see.`,
        { details: { field: name } },
      );
  }
}

/** Owners must be active, not deleted users. */
const activeUser = prepared((db, id: number) =>
  db
    .selectFrom('users')
    .select('id')
    .where('id', '=', id)
    .where('status', '=', 'Active')
    .where('deleted_at', 'is', null),
);

export async function checkOwner(db: Q, ownerId: number): Promise<void> {
  const u = (await activeUser(db, ownerId)).rows[0];
  if (!u)
    throw recordError('OWNER_INVALID', `assigned_user_id: there is no active user ${ownerId}.`, {
      details: { field: 'assigned_user_id' },
    });
}
