import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorFromRequest } from '../audit/audit.repository.js';
import type { AppContext } from '../context.js';
import { CRM_MODULES } from './modules.js';
import { getSharingDefaults, listProfiles, listRoles } from './role.repository.js';
import {
  changeSharingDefaults,
  createProfile,
  createRole,
  deleteProfile,
  deleteRole,
  updateProfile,
  updateRole,
} from './role.service.js';

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
    async (req, reply) => reply.code(201).send(await createRole(ctx, actorFromRequest(req), req.body)),
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
    async (req) => updateRole(ctx, actorFromRequest(req), req.params.id, req.body),
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
      await deleteRole(ctx, actorFromRequest(req), req.params.id, req.query.transferTo);
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
    async (req, reply) => reply.code(201).send(await createProfile(ctx, actorFromRequest(req), req.body)),
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
    async (req) => updateProfile(ctx, actorFromRequest(req), req.params.id, req.body),
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
      await deleteProfile(ctx, actorFromRequest(req), req.params.id);
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
    async (req) => changeSharingDefaults(ctx, actorFromRequest(req), req.body),
  );
}
