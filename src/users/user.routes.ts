import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorFromRequest } from '../audit/audit.repository.js';
import { PASSWORD_MAX_LENGTH } from '../auth/password-policy.js';
import type { AppContext } from '../context.js';
import { withUnitOfWork } from '../db/unit-of-work.js';
import { selfOrAdmin } from './self-or-admin.js';
import { userError } from './user.errors.js';
import {
  DATE_FORMATS,
  LANGUAGES,
  timeZoneSchema,
  usernameSchema,
  userView,
  userViewSchema,
} from './user.model.js';
import { findUserById, listUsers } from './user.repository.js';
import { createUser, loadVisibleUser, updateUser } from './user.service.js';

/** other features' routes find users through here */
export { loadVisibleUser };

export const userIdParam = z.object({
  id: z
    .union([z.literal('me'), z.coerce.number().int().positive()])
    .describe('a user id, or `me` for the caller'),
});

const names = { firstName: z.string().trim().max(80), lastName: z.string().trim().min(1).max(80) };
const preferences = {
  timeZone: timeZoneSchema,
  dateFormat: z.enum(DATE_FORMATS),
  language: z.enum(LANGUAGES),
};

const createBody = z.object({
  username: usernameSchema,
  password: z.string().max(PASSWORD_MAX_LENGTH * 4),
  ...names,
  firstName: names.firstName.optional(),
  email: z.email().max(254),
  isAdmin: z.boolean().optional(),
  roleId: z.number().int().positive().optional(),
  status: z.enum(['Active', 'Inactive']).optional(),
  timeZone: preferences.timeZone.optional(),
  dateFormat: preferences.dateFormat.optional(),
  language: preferences.language.optional(),
});

const patchBody = z
  .object({
    username: usernameSchema,
    ...names,
    email: z.email().max(254),
    isAdmin: z.boolean(),
    roleId: z.number().int().positive(),
    status: z.enum(['Active', 'Inactive']),
    ...preferences,
  })
  .partial()
  .strict();

export function resolveUserId(req: FastifyRequest, id: number | 'me'): number {
  return id === 'me' ? req.auth!.user.id : id;
}

export async function userRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const db = ctx.db.kysely;
  const tags = ['Users'];

  r.get(
    '/users',
    {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary: 'List users (paged, searchable by username, name or email)',
        querystring: z.object({
          search: z.string().max(100).optional(),
          status: z.enum(['Active', 'Inactive']).optional(),
          roleId: z.coerce.number().int().positive().optional(),
          deleted: z
            .enum(['true', 'false', 'all'])
            .default('false')
            .describe(
              '`true` (admins): only deleted users, who can be restored; `all` (admins): everyone, deleted or not',
            ),
          limit: z.coerce.number().int().min(1).max(200).default(50),
          offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
        }),
        response: {
          200: z.object({
            items: z.array(userViewSchema),
            total: z.number().int(),
            limit: z.number().int(),
            offset: z.number().int(),
          }),
        },
      },
    },
    async (req) => {
      const { deleted } = req.query;
      if (deleted !== 'false' && !req.auth!.user.isAdmin)
        throw userError('PERMISSION_DENIED', 'Only administrators can list deleted users.');
      const { items, total } = await listUsers(db, { ...req.query, deleted });
      return { items: items.map(userView), total, limit: req.query.limit, offset: req.query.offset };
    },
  );

  r.post(
    '/users',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Create a user (admins)',
        body: createBody,
        response: { 201: userViewSchema },
      },
    },
    async (req, reply) => {
      const user = await withUnitOfWork(ctx, actorFromRequest(req), (uow) => {
        uow.sendsMail();
        return createUser(ctx, uow.trx, req.body, uow.actor);
      });
      return reply.code(201).send(userView(user));
    },
  );

  r.get(
    '/users/:id',
    {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary: 'Read a user. Admins also read deleted users (`deletedAt` set), to restore or purge them.',
        params: userIdParam,
        response: { 200: userViewSchema },
      },
    },
    async (req) => {
      const id = resolveUserId(req, req.params.id);
      if (!req.auth!.user.isAdmin) return userView(await loadVisibleUser(ctx, id));
      const user = await findUserById(db, id);
      if (!user) throw userError('USER_NOT_FOUND', `There is no user ${id}.`);
      return userView(user);
    },
  );

  r.patch(
    '/users/:id',
    {
      config: { access: 'authenticated' },
      preValidation: selfOrAdmin('change'),
      schema: {
        tags,
        summary: 'Change a user. Users change their own names and preferences; admins change anything.',
        params: userIdParam,
        body: patchBody,
        response: {
          200: userViewSchema.extend({
            warnings: z
              .array(z.string())
              .describe('things the caller should know about the change, e.g. integrations to update'),
          }),
        },
      },
    },
    async (req) => {
      const id = resolveUserId(req, req.params.id);
      const { user, warnings } = await updateUser(ctx, req.auth!.user, actorFromRequest(req), id, req.body);
      return { ...userView(user), warnings };
    },
  );
}
