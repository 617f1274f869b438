import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/schema.js';
import type { User } from '../users/user.model.js';
import { type ModuleGrants, mergeGrants, type Principal, type SharingAccess } from './permissions.js';
import type { ProfileRow, RoleRow } from './role.table.js';

type Q = Kysely<Database> | Transaction<Database>;

export interface Role {
  id: number;
  name: string;
  parentId: number | null;
  path: string;
  depth: number;
  profileIds: number[];
  userCount: number;
}

export interface Profile {
  id: number;
  name: string;
  description: string;
  permissions: Record<string, ModuleGrants>;
}

export async function listRoles(db: Q): Promise<Role[]> {
  const [roles, links, counts] = await Promise.all([
    db.selectFrom('roles').selectAll().orderBy('path').execute(),
    db.selectFrom('role_profiles').selectAll().execute(),
    db
      .selectFrom('users')
      .select(['role_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('deleted_at', 'is', null)
      .groupBy('role_id')
      .execute(),
  ]);
  return roles.map((r) => toRole(r, links, counts));
}

export async function findRole(db: Q, id: number): Promise<Role | undefined> {
  const r = await db.selectFrom('roles').selectAll().where('id', '=', id).executeTakeFirst();
  if (!r) return undefined;
  const links = await db.selectFrom('role_profiles').selectAll().where('role_id', '=', id).execute();
  const count = await db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('role_id', '=', id)
    .where('deleted_at', 'is', null)
    .executeTakeFirstOrThrow();
  return toRole(r, links, [{ role_id: id, n: count.n }]);
}

function toRole(
  r: RoleRow,
  links: Array<{ role_id: number; profile_id: number }>,
  counts: Array<{ role_id: number; n: number | string }>,
): Role {
  return {
    id: r.id,
    name: r.name,
    parentId: r.parent_id,
    path: r.path,
    depth: r.depth,
    profileIds: links.filter((l) => l.role_id === r.id).map((l) => l.profile_id),
    userCount: Number(counts.find((c) => c.role_id === r.id)?.n ?? 0),
  };
}

export async function insertRole(trx: Q, name: string, parent: Role, now: number): Promise<number> {
  const row = await trx
    .insertInto('roles')
    .values({ name, parent_id: parent.id, path: '', depth: parent.depth + 1, created_at: now })
    .returning('id')
    .executeTakeFirstOrThrow();
  await trx
    .updateTable('roles')
    .set({ path: `${parent.path}${row.id}/` })
    .where('id', '=', row.id)
    .execute();
  return row.id;
}

/** Moves a role and its whole subtree under a new parent by rewriting the materialised paths. */
export async function moveRole(trx: Q, role: Role, newParent: Role): Promise<void> {
  const newPath = `${newParent.path}${role.id}/`;
  const depthDelta = newParent.depth + 1 - role.depth;
  const subtree = await trx
    .selectFrom('roles')
    .select(['id', 'path', 'depth'])
    .where('path', 'like', `${role.path}%`)
    .execute();
  for (const r of subtree) {
    await trx
      .updateTable('roles')
      .set({ path: newPath + r.path.slice(role.path.length), depth: r.depth + depthDelta })
      .where('id', '=', r.id)
      .execute();
  }
  await trx.updateTable('roles').set({ parent_id: newParent.id }).where('id', '=', role.id).execute();
}

export async function setRoleProfiles(trx: Q, roleId: number, profileIds: number[]): Promise<void> {
  await trx.deleteFrom('role_profiles').where('role_id', '=', roleId).execute();
  for (const profile_id of new Set(profileIds)) {
    await trx.insertInto('role_profiles').values({ role_id: roleId, profile_id }).execute();
  }
}

export async function listProfiles(db: Q): Promise<Profile[]> {
  const [profiles, perms] = await Promise.all([
    db.selectFrom('profiles').selectAll().orderBy('name').execute(),
    db.selectFrom('profile_permissions').selectAll().execute(),
  ]);
  return profiles.map((p) => toProfile(p, perms));
}

export async function findProfile(db: Q, id: number): Promise<Profile | undefined> {
  const p = await db.selectFrom('profiles').selectAll().where('id', '=', id).executeTakeFirst();
  if (!p) return undefined;
  const perms = await db.selectFrom('profile_permissions').selectAll().where('profile_id', '=', id).execute();
  return toProfile(p, perms);
}

function toProfile(
  p: ProfileRow,
  perms: Array<{ profile_id: number; module: string } & Record<`can_${string}`, number | boolean>>,
): Profile {
  const permissions: Record<string, ModuleGrants> = {};
  for (const r of perms.filter((x) => x.profile_id === p.id)) {
    permissions[r.module] = {
      view: Boolean(r.can_view),
      create: Boolean(r.can_create),
      edit: Boolean(r.can_edit),
      delete: Boolean(r.can_delete),
    };
  }
  return { id: p.id, name: p.name, description: p.description, permissions };
}

export async function setProfilePermissions(
  trx: Q,
  profileId: number,
  perms: Record<string, ModuleGrants>,
): Promise<void> {
  for (const [module, g] of Object.entries(perms)) {
    await trx
      .deleteFrom('profile_permissions')
      .where('profile_id', '=', profileId)
      .where('module', '=', module)
      .execute();
    await trx
      .insertInto('profile_permissions')
      .values({
        profile_id: profileId,
        module,
        can_view: +g.view,
        can_create: +g.create,
        can_edit: +g.edit,
        can_delete: +g.delete,
      })
      .execute();
  }
}

export async function getSharingDefaults(db: Q): Promise<Record<string, SharingAccess>> {
  const rows = await db.selectFrom('sharing_defaults').selectAll().execute();
  return Object.fromEntries(rows.map((r) => [r.module, r.access]));
}

/** The user's role path and the union of their role's profile grants. */
export async function loadPrincipal(db: Q, user: User): Promise<Principal> {
  const [role, grants] = await Promise.all([
    db.selectFrom('roles').select('path').where('id', '=', user.roleId).executeTakeFirst(),
    db
      .selectFrom('role_profiles')
      .innerJoin('profile_permissions', 'profile_permissions.profile_id', 'role_profiles.profile_id')
      .select(['module', 'can_view', 'can_create', 'can_edit', 'can_delete'])
      .where('role_profiles.role_id', '=', user.roleId)
      .execute(),
  ]);
  return {
    userId: user.id,
    isAdmin: user.isAdmin,
    roleId: user.roleId,
    rolePath: role?.path ?? '/',
    modules: mergeGrants(
      grants.map((g) => ({
        module: g.module,
        view: Boolean(g.can_view),
        create: Boolean(g.can_create),
        edit: Boolean(g.can_edit),
        delete: Boolean(g.can_delete),
      })),
    ),
  };
}

export async function renameRole(trx: Q, roleId: number, name: string): Promise<void> {
  await trx.updateTable('roles').set({ name }).where('id', '=', roleId).execute();
}

export async function hasSubordinateRole(db: Q, roleId: number): Promise<boolean> {
  const child = await db.selectFrom('roles').select('id').where('parent_id', '=', roleId).executeTakeFirst();
  return child !== undefined;
}

/** Every user in the role, deleted users included (their row still points at it). */
export async function userIdsInRole(db: Q, roleId: number): Promise<number[]> {
  const rows = await db.selectFrom('users').select('id').where('role_id', '=', roleId).execute();
  return rows.map((r) => r.id);
}

export async function moveUsersToRole(trx: Q, fromRoleId: number, toRoleId: number): Promise<void> {
  await trx.updateTable('users').set({ role_id: toRoleId }).where('role_id', '=', fromRoleId).execute();
}

export async function deleteRoleRow(trx: Q, roleId: number): Promise<void> {
  await trx.deleteFrom('roles').where('id', '=', roleId).execute();
}

/** The ids among `ids` that name no profile. */
export async function missingProfileIds(db: Q, ids: number[]): Promise<number[]> {
  const found = await db.selectFrom('profiles').select('id').where('id', 'in', ids).execute();
  return ids.filter((id) => !found.some((f) => f.id === id));
}

export async function profileNameTaken(db: Q, name: string): Promise<boolean> {
  const row = await db.selectFrom('profiles').select('id').where('name', '=', name).executeTakeFirst();
  return row !== undefined;
}

export async function insertProfile(
  trx: Q,
  profile: { name: string; description: string },
  now: number,
): Promise<number> {
  const row = await trx
    .insertInto('profiles')
    .values({ name: profile.name, description: profile.description, created_at: now })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function updateProfileRow(
  trx: Q,
  profileId: number,
  patch: { name?: string; description?: string },
): Promise<void> {
  const { name, description } = patch;
  if (name === undefined && description === undefined) return;
  await trx
    .updateTable('profiles')
    .set({ ...(name !== undefined && { name }), ...(description !== undefined && { description }) })
    .where('id', '=', profileId)
    .execute();
}

export async function profileInUse(db: Q, profileId: number): Promise<boolean> {
  const used = await db
    .selectFrom('role_profiles')
    .select('role_id')
    .where('profile_id', '=', profileId)
    .executeTakeFirst();
  return used !== undefined;
}

export async function deleteProfileRow(trx: Q, profileId: number): Promise<void> {
  await trx.deleteFrom('profiles').where('id', '=', profileId).execute();
}

export async function setSharingDefault(trx: Q, module: string, access: SharingAccess): Promise<void> {
  await trx.updateTable('sharing_defaults').set({ access }).where('module', '=', module).execute();
}
