import type { AuditActor } from '../audit/audit.repository.js';
import type { AppContext } from '../context.js';
import { withUnitOfWork } from '../db/unit-of-work.js';
import { CRM_MODULES, type CrmModule } from './modules.js';
import type { ModuleGrants, SharingAccess } from './permissions.js';
import { roleError } from './role.errors.js';
import {
  deleteProfileRow,
  deleteRoleRow,
  findProfile,
  findRole,
  getSharingDefaults,
  hasSubordinateRole,
  insertProfile,
  insertRole,
  missingProfileIds,
  moveRole,
  moveUsersToRole,
  type Profile,
  profileInUse,
  profileNameTaken,
  type Role,
  renameRole,
  setProfilePermissions,
  setRoleProfiles,
  setSharingDefault,
  updateProfileRow,
  userIdsInRole,
} from './role.repository.js';

/**
 * Roles, profiles and sharing defaults: the rules behind `/roles`, `/profiles` and `/sharing-defaults`.
 * Every change here alters who may do what, so each runs in a unit of work that drops the cached
 * permissions after commit (`invalidatesAuth`), and is audited in its transaction.
 */

export type ProfilePermissions = Partial<Record<CrmModule, ModuleGrants>>;
export type SharingDefaults = Partial<Record<CrmModule, SharingAccess>>;

export interface NewRole {
  name: string;
  parentId: number;
  profileIds: number[];
}

export interface RolePatch {
  name?: string;
  parentId?: number;
  profileIds?: number[];
}

export interface NewProfile {
  name: string;
  description: string;
  permissions: ProfilePermissions;
}

export interface ProfilePatch {
  name?: string;
  description?: string;
  permissions?: ProfilePermissions;
}

export async function createRole(ctx: AppContext, actor: AuditActor, input: NewRole): Promise<Role> {
  const db = ctx.db.kysely;
  const parent = await findRole(db, input.parentId);
  if (!parent)
    throw roleError('ROLE_NOT_FOUND', `There is no role ${input.parentId} to put the new role under.`);
  await assertProfilesExist(ctx, input.profileIds);
  const id = await withUnitOfWork(ctx, actor, async (uow) => {
    uow.invalidatesAuth();
    const id = await insertRole(uow.trx, input.name, parent, uow.now);
    await setRoleProfiles(uow.trx, id, input.profileIds);
    await uow.audit({
      action: 'role.created',
      target: { type: 'role', id },
      details: { name: input.name, parentId: parent.id, profileIds: input.profileIds },
    });
    return id;
  });
  return (await findRole(db, id))!;
}

/** Rename a role, move it with its subtree, or change its profiles. */
export async function updateRole(
  ctx: AppContext,
  actor: AuditActor,
  roleId: number,
  patch: RolePatch,
): Promise<Role> {
  const db = ctx.db.kysely;
  const role = await findRole(db, roleId);
  if (!role) throw roleError('ROLE_NOT_FOUND', `There is no role ${roleId}.`);
  const { name: newName, parentId, profileIds } = patch;
  let newParent: Role | undefined;
  if (parentId !== undefined && parentId !== role.parentId) {
    if (role.parentId === null) throw roleError('ROLE_IS_ROOT', 'The top role cannot be moved.');
    newParent = await findRole(db, parentId);
    if (!newParent)
      throw roleError('ROLE_NOT_FOUND', `There is no role ${parentId} to move this role under.`);
    if (newParent.path.startsWith(role.path))
      throw roleError('ROLE_MOVE_INVALID', 'A role cannot be moved under itself or one of its subordinates.');
  }
  if (profileIds) await assertProfilesExist(ctx, profileIds);
  await withUnitOfWork(ctx, actor, async (uow) => {
    uow.invalidatesAuth();
    if (newName) await renameRole(uow.trx, role.id, newName);
    if (newParent) await moveRole(uow.trx, role, newParent);
    if (profileIds) await setRoleProfiles(uow.trx, role.id, profileIds);
    await uow.audit({
      action: 'role.updated',
      target: { type: 'role', id: role.id },
      details: {
        before: { name: role.name, parentId: role.parentId, profileIds: role.profileIds },
        after: patch,
      },
    });
  });
  return (await findRole(db, role.id))!;
}

/** Delete a role without subordinates; its users (if any) move to `transferTo`. */
export async function deleteRole(
  ctx: AppContext,
  actor: AuditActor,
  roleId: number,
  transferTo: number | undefined,
): Promise<void> {
  const db = ctx.db.kysely;
  const role = await findRole(db, roleId);
  if (!role) throw roleError('ROLE_NOT_FOUND', `There is no role ${roleId}.`);
  if (role.parentId === null) throw roleError('ROLE_IS_ROOT', 'The top role cannot be deleted.');
  if (await hasSubordinateRole(db, role.id))
    throw roleError('ROLE_HAS_SUBORDINATES', 'Move or delete the roles under this role first.');
  const usersInRole = await userIdsInRole(db, role.id);
  if (usersInRole.length > 0 && transferTo === undefined) {
    throw roleError('ROLE_HAS_USERS', 'This role has users: choose the role they move to with transferTo.');
  }
  if (transferTo !== undefined && (transferTo === role.id || !(await findRole(db, transferTo)))) {
    throw roleError('ROLE_NOT_FOUND', `There is no other role ${transferTo} to move the users to.`);
  }
  await withUnitOfWork(ctx, actor, async (uow) => {
    uow.invalidatesAuth();
    if (transferTo !== undefined) await moveUsersToRole(uow.trx, role.id, transferTo);
    await deleteRoleRow(uow.trx, role.id);
    await uow.audit({
      action: 'role.deleted',
      target: { type: 'role', id: role.id },
      details: { name: role.name, movedUsers: usersInRole.length, transferTo: transferTo ?? null },
    });
  });
}

export async function createProfile(ctx: AppContext, actor: AuditActor, input: NewProfile): Promise<Profile> {
  await assertProfileNameFree(ctx, input.name);
  const id = await withUnitOfWork(ctx, actor, async (uow) => {
    uow.invalidatesAuth();
    const id = await insertProfile(uow.trx, input, uow.now);
    await setProfilePermissions(uow.trx, id, completePermissions(input.permissions));
    await uow.audit({ action: 'profile.created', target: { type: 'profile', id }, details: { ...input } });
    return id;
  });
  return (await findProfile(ctx.db.kysely, id))!;
}

export async function updateProfile(
  ctx: AppContext,
  actor: AuditActor,
  profileId: number,
  patch: ProfilePatch,
): Promise<Profile> {
  const db = ctx.db.kysely;
  const profile = await findProfile(db, profileId);
  if (!profile) throw roleError('PROFILE_NOT_FOUND', `There is no profile ${profileId}.`);
  if (patch.name && patch.name !== profile.name) await assertProfileNameFree(ctx, patch.name);
  await withUnitOfWork(ctx, actor, async (uow) => {
    uow.invalidatesAuth();
    await updateProfileRow(uow.trx, profile.id, { name: patch.name, description: patch.description });
    if (patch.permissions)
      await setProfilePermissions(uow.trx, profile.id, patch.permissions as Record<string, ModuleGrants>);
    await uow.audit({
      action: 'profile.updated',
      target: { type: 'profile', id: profile.id },
      details: { before: profile, after: patch },
    });
  });
  return (await findProfile(db, profile.id))!;
}

/** Delete a profile that no role uses. */
export async function deleteProfile(ctx: AppContext, actor: AuditActor, profileId: number): Promise<void> {
  const db = ctx.db.kysely;
  const profile = await findProfile(db, profileId);
  if (!profile) throw roleError('PROFILE_NOT_FOUND', `There is no profile ${profileId}.`);
  if (await profileInUse(db, profile.id))
    throw roleError('PROFILE_IN_USE', 'Roles still use this profile; take it off them first.');
  await withUnitOfWork(ctx, actor, async (uow) => {
    uow.invalidatesAuth();
    await deleteProfileRow(uow.trx, profile.id);
    await uow.audit({
      action: 'profile.deleted',
      target: { type: 'profile', id: profile.id },
      details: { name: profile.name },
    });
  });
}

/** Change the organisation-wide sharing default of the modules given; answers every module's default. */
export async function changeSharingDefaults(
  ctx: AppContext,
  actor: AuditActor,
  changes: SharingDefaults,
): Promise<Record<string, SharingAccess>> {
  const before = await getSharingDefaults(ctx.db.kysely);
  await withUnitOfWork(ctx, actor, async (uow) => {
    uow.invalidatesAuth();
    for (const [module, access] of Object.entries(changes)) {
      if (access !== undefined) await setSharingDefault(uow.trx, module, access);
    }
    await uow.audit({ action: 'sharing.updated', details: { before, after: changes } });
  });
  return getSharingDefaults(ctx.db.kysely);
}

async function assertProfilesExist(ctx: AppContext, ids: number[]): Promise<void> {
  const missing = await missingProfileIds(ctx.db.kysely, ids);
  if (missing.length) throw roleError('PROFILE_NOT_FOUND', `There is no profile ${missing.join(', ')}.`);
}

async function assertProfileNameFree(ctx: AppContext, name: string): Promise<void> {
  if (await profileNameTaken(ctx.db.kysely, name))
    throw roleError('PROFILE_NAME_TAKEN', `A profile named "${name}" already exists.`);
}

/** A new profile lists every module; modules left out get no access. */
function completePermissions(p: ProfilePermissions): Record<string, ModuleGrants> {
  const none = { view: false, create: false, edit: false, delete: false };
  return Object.fromEntries(CRM_MODULES.map((m) => [m, p[m] ?? none]));
}
