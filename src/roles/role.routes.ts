import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorFromRequest, recordAudit } from '../audit/audit.repository.js';
import { authChangingTransaction } from '../auth/auth-change.js';
import type { AppContext } from '../context.js';
import { errorTable } from '../http/errors.js';
import { CRM_MODULES } from './modules.js';
import {
  findProfile,
  findRole,
  getSharingDefaults,
  insertRole,
  listProfiles,
  listRoles,
  moveRole,
  setProfilePermissions,
  setRoleProfiles,
} from './role.repository.js';

export const roleError = errorTable({
  ROLE_NOT_FOUND: 404,
  PROFILE_NOT_FOUND: 404,
  ROLE_IS_ROOT: 409,
  ROLE_HAS_SUBORDINATES: 409,
  ROLE_HAS_USERS: 409,
  ROLE_MOVE_INVALID: 409,
  PROFILE_IN_USE: 409,
  PROFILE_NAME_TAKEN: 409,
});

const grantsSchema = z.object({
  view: z.boolean(),
  create: z.boolean(),
  edit: z.boolean(),
  delete: z.boolean(),
});
const permissionsSchema = z.partialRecord(z.enum(CRM_MODULES), grantsSchema);
const roleSchema = z
  .object({
    id: z.number().int(),
    name: z.string(),
    parentId: z.number().int().nullable(),
    depth: z.number().int(),
    profileIds: z.array(z.number().int()),
    userCount: z.number().int(),
  })
  .meta({ id: 'Role' });
const profileSchema = z
  .object({ id: z.number().int(), name: z.string(), description: z.string(), permissions: permissionsSchema })
  .meta({ id: 'Profile' });
const sharingSchema = z.partialRecord(
  z.enum(CRM_MODULES),
  z.enum(['private', 'public_read', 'public_read_write']),
);
const idParams = z.object({ id: z.coerce.number().int().positive() });
const name = z.string().trim().min(1).max(100);

export async function roleRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const db = ctx.db.kysely;
  const admin = { access: 'admin' as const };
  const tags = ['Roles and profiles'];

  r.get(
    '/roles',
    {
      config: admin,
      schema: {
        tags,
        summary: 'List the role hierarchy',
        response: { 200: z.object({ items: z.array(roleSchema) }) },
      },
    },
    async () => ({
      items: await listRoles(db),
    }),
  );

  r.post(
    '/roles',
    {
      config: admin,
      schema: {
        tags,
        summary: 'Create a role under a parent role',
        body: z.object({
          name,
          parentId: z.number().int().positive(),
          profileIds: z.array(z.number().int().positive()).min(1),
        }),
        response: { 201: roleSchema },
      },
    },
    async (req, reply) => {
      const parent = await findRole(db, req.body.parentId);
      if (!parent)
        throw roleError('ROLE_NOT_FOUND', `There is no role ${req.body.parentId} to put the new role under.`);
      await assertProfilesExist(ctx, req.body.profileIds);
      const id = await authChangingTransaction(ctx, async (trx) => {
        const id = await insertRole(trx, req.body.name, parent, ctx.clock.now());
        await setRoleProfiles(trx, id, req.body.profileIds);
        await recordAudit(
          trx,
          actorFromRequest(req),
          {
            action: 'role.created',
            target: { type: 'role', id },
            details: { name: req.body.name, parentId: parent.id, profileIds: req.body.profileIds },
          },
          ctx.clock.now(),
        );
        return id;
      });
      return reply.code(201).send((await findRole(db, id))!);
    },
  );

  r.patch(
    '/roles/:id',
    {
      config: admin,
      schema: {
        tags,
        summary: 'Rename a role, move it (with its subtree) or change its profiles',
        params: idParams,
        body: z.object({
          name: name.optional(),
          parentId: z.number().int().positive().optional(),
          profileIds: z.array(z.number().int().positive()).min(1).optional(),
        }),
        response: { 200: roleSchema },
      },
    },
    async (req) => {
      const role = await findRole(db, req.params.id);
      if (!role) throw roleError('ROLE_NOT_FOUND', `There is no role ${req.params.id}.`);
      const { name: newName, parentId, profileIds } = req.body;
      let newParent: Awaited<ReturnType<typeof findRole>>;
      if (parentId !== undefined && parentId !== role.parentId) {
        if (role.parentId === null) throw roleError('ROLE_IS_ROOT', 'The top role cannot be moved.');
        newParent = await findRole(db, parentId);
        if (!newParent)
          throw roleError('ROLE_NOT_FOUND', `There is no role ${parentId} to move this role under.`);
        if (newParent.path.startsWith(role.path))
          throw roleError(
            'ROLE_MOVE_INVALID',
            'A role cannot be moved under itself or one of its subordinates.',
          );
      }
      if (profileIds) await assertProfilesExist(ctx, profileIds);
      await authChangingTransaction(ctx, async (trx) => {
        if (newName)
          await trx.updateTable('roles').set({ name: newName }).where('id', '=', role.id).execute();
        if (newParent) await moveRole(trx, role, newParent);
        if (profileIds) await setRoleProfiles(trx, role.id, profileIds);
        await recordAudit(
          trx,
          actorFromRequest(req),
          {
            action: 'role.updated',
            target: { type: 'role', id: role.id },
            details: {
              before: { name: role.name, parentId: role.parentId, profileIds: role.profileIds },
              after: req.body,
            },
          },
          ctx.clock.now(),
        );
      });
      return (await findRole(db, role.id))!;
    },
  );

  r.delete(
    '/roles/:id',
    {
      config: admin,
      schema: {
        tags,
        summary: 'Delete a role; its users move to the role given in transferTo',
        params: idParams,
        querystring: z.object({ transferTo: z.coerce.number().int().positive().optional() }),
        response: { 204: z.null() },
      },
    },
    async (req, reply) => {
      const role = await findRole(db, req.params.id);
      if (!role) throw roleError('ROLE_NOT_FOUND', `There is no role ${req.params.id}.`);
      if (role.parentId === null) throw roleError('ROLE_IS_ROOT', 'The top role cannot be deleted.');
      const child = await db
        .selectFrom('roles')
        .select('id')
        .where('parent_id', '=', role.id)
        .executeTakeFirst();
      if (child) throw roleError('ROLE_HAS_SUBORDINATES', 'Move or delete the roles under this role first.');
      const usersInRole = await db.selectFrom('users').select('id').where('role_id', '=', role.id).execute();
      const transferTo = req.query.transferTo;
      if (usersInRole.length > 0 && transferTo === undefined) {
        throw roleError(
          'ROLE_HAS_USERS',
          'This role has users: choose the role they move to with transferTo.',
        );
      }
      if (transferTo !== undefined && (transferTo === role.id || !(await findRole(db, transferTo)))) {
        throw roleError('ROLE_NOT_FOUND', `There is no other role ${transferTo} to move the users to.`);
      }
      await authChangingTransaction(ctx, async (trx) => {
        if (transferTo !== undefined)
          await trx
            .updateTable('users')
            .set({ role_id: transferTo })
            .where('role_id', '=', role.id)
            .execute();
        await trx.deleteFrom('roles').where('id', '=', role.id).execute();
        await recordAudit(
          trx,
          actorFromRequest(req),
          {
            action: 'role.deleted',
            target: { type: 'role', id: role.id },
            details: { name: role.name, movedUsers: usersInRole.length, transferTo: transferTo ?? null },
          },
          ctx.clock.now(),
        );
      });
      return reply.code(204).send(null);
    },
  );

  r.get(
    '/profiles',
    {
      config: admin,
      schema: {
        tags,
        summary: 'List profiles and their module permissions',
        response: { 200: z.object({ items: z.array(profileSchema) }) },
      },
    },
    async () => ({
      items: await listProfiles(db),
    }),
  );

  r.post(
    '/profiles',
    {
      config: admin,
      schema: {
        tags,
        summary: 'Create a profile',
        body: z.object({
          name,
          description: z.string().max(500).default(''),
          permissions: permissionsSchema,
        }),
        response: { 201: profileSchema },
      },
    },
    async (req, reply) => {
      await assertProfileNameFree(ctx, req.body.name);
      const id = await authChangingTransaction(ctx, async (trx) => {
        const row = await trx
          .insertInto('profiles')
          .values({ name: req.body.name, description: req.body.description, created_at: ctx.clock.now() })
          .returning('id')
          .executeTakeFirstOrThrow();
        await setProfilePermissions(trx, row.id, completePermissions(req.body.permissions));
        await recordAudit(
          trx,
          actorFromRequest(req),
          { action: 'profile.created', target: { type: 'profile', id: row.id }, details: req.body },
          ctx.clock.now(),
        );
        return row.id;
      });
      return reply.code(201).send((await findProfile(db, id))!);
    },
  );

  r.patch(
    '/profiles/:id',
    {
      config: admin,
      schema: {
        tags,
        summary: 'Change a profile',
        params: idParams,
        body: z.object({
          name: name.optional(),
          description: z.string().max(500).optional(),
          permissions: permissionsSchema.optional(),
        }),
        response: { 200: profileSchema },
      },
    },
    async (req) => {
      const profile = await findProfile(db, req.params.id);
      if (!profile) throw roleError('PROFILE_NOT_FOUND', `There is no profile ${req.params.id}.`);
      if (req.body.name && req.body.name !== profile.name) await assertProfileNameFree(ctx, req.body.name);
      await authChangingTransaction(ctx, async (trx) => {
        const { name: n, description } = req.body;
        if (n !== undefined || description !== undefined)
          await trx
            .updateTable('profiles')
            .set({ ...(n !== undefined && { name: n }), ...(description !== undefined && { description }) })
            .where('id', '=', profile.id)
            .execute();
        if (req.body.permissions) await setProfilePermissions(trx, profile.id, req.body.permissions as never);
        await recordAudit(
          trx,
          actorFromRequest(req),
          {
            action: 'profile.updated',
            target: { type: 'profile', id: profile.id },
            details: { before: profile, after: req.body },
          },
          ctx.clock.now(),
        );
      });
      return (await findProfile(db, profile.id))!;
    },
  );

  r.delete(
    '/profiles/:id',
    {
      config: admin,
      schema: {
        tags,
        summary: 'Delete a profile no role uses',
        params: idParams,
        response: { 204: z.null() },
      },
    },
    async (req, reply) => {
      const profile = await findProfile(db, req.params.id);
      if (!profile) throw roleError('PROFILE_NOT_FOUND', `There is no profile ${req.params.id}.`);
      const used = await db
        .selectFrom('role_profiles')
        .select('role_id')
        .where('profile_id', '=', profile.id)
        .executeTakeFirst();
      if (used) throw roleError('PROFILE_IN_USE', 'Roles still use this profile; take it off them first.');
      await authChangingTransaction(ctx, async (trx) => {
        await trx.deleteFrom('profiles').where('id', '=', profile.id).execute();
        await recordAudit(
          trx,
          actorFromRequest(req),
          {
            action: 'profile.deleted',
            target: { type: 'profile', id: profile.id },
            details: { name: profile.name },
          },
          ctx.clock.now(),
        );
      });
      return reply.code(204).send(null);
    },
  );

  r.get(
    '/sharing-defaults',
    {
      config: admin,
      schema: {
        tags,
        summary: 'Organisation-wide sharing default per module',
        response: { 200: sharingSchema },
      },
    },
    async () => getSharingDefaults(db),
  );

  r.put(
    '/sharing-defaults',
    {
      config: admin,
      schema: {
        tags,
        summary: 'Change organisation-wide sharing defaults',
        body: sharingSchema,
        response: { 200: sharingSchema },
      },
    },
    async (req) => {
      const before = await getSharingDefaults(db);
      await authChangingTransaction(ctx, async (trx) => {
        for (const [module, access] of Object.entries(req.body)) {
          await trx.updateTable('sharing_defaults').set({ access }).where('module', '=', module).execute();
        }
        await recordAudit(
          trx,
          actorFromRequest(req),
          { action: 'sharing.updated', details: { before, after: req.body } },
          ctx.clock.now(),
        );
      });
      return getSharingDefaults(db);
    },
  );
}

async function assertProfilesExist(ctx: AppContext, ids: number[]): Promise<void> {
  const found = await ctx.db.kysely.selectFrom('profiles').select('id').where('id', 'in', ids).execute();
  const missing = ids.filter((id) => !found.some((f) => f.id === id));
  if (missing.length) throw roleError('PROFILE_NOT_FOUND', `There is no profile ${missing.join(', ')}.`);
}

async function assertProfileNameFree(ctx: AppContext, name: string): Promise<void> {
  const existing = await ctx.db.kysely
    .selectFrom('profiles')
    .select('id')
    .where('name', '=', name)
    .executeTakeFirst();
  if (existing) throw roleError('PROFILE_NAME_TAKEN', `A profile named "${name}" already exists.`);
}

/** A new profile lists every module; modules left out get no access. */
function completePermissions(p: z.infer<typeof permissionsSchema>) {
  const none = { view: false, create: false, edit: false, delete: false };
  return Object.fromEntries(CRM_MODULES.map((m) => [m, p[m] ?? none]));
}
