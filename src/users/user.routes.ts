import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorFromRequest, recordAudit } from '../audit/audit.repository.js';
import { authChangingTransaction } from '../auth/auth-change.js';
import { PASSWORD_MAX_LENGTH } from '../auth/password-policy.js';
import { deleteUserSessions } from '../auth/session.repository.js';
import type { AppContext } from '../context.js';
import { queueVerificationMail } from './email-verification.service.js';
import { assertOwnerActionAllowed } from './owner-guard.js';
import { selfOrAdmin } from './self-or-admin.js';
import { userError } from './user.errors.js';
import {
  DATE_FORMATS,
  LANGUAGES,
  timeZoneSchema,
  type User,
  usernameSchema,
  userView,
  userViewSchema,
} from './user.model.js';
import {
  countActiveAdmins,
  findUserById,
  findUserByUsername,
  listUsers,
  type NewUserRow,
  updateUserRow,
} from './user.repository.js';
import { createUser } from './user.service.js';

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

/** What a user may change on their own record without being an admin. */
const SELF_FIELDS = new Set(['firstName', 'lastName', 'timeZone', 'dateFormat', 'language']);

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
            .enum(['true', 'false'])
            .default('false')
            .describe('`true` (admins): list deleted users, who can be restored'),
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
      const deleted = req.query.deleted === 'true';
      if (deleted && !req.auth!.user.isAdmin)
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
      const user = await db
        .transaction()
        .execute((trx) => createUser(ctx, trx, req.body, actorFromRequest(req)));
      ctx.mailQueue.kick();
      return reply.code(201).send(userView(user));
    },
  );

  r.get(
    '/users/:id',
    {
      config: { access: 'authenticated' },
      schema: { tags, summary: 'Read a user', params: userIdParam, response: { 200: userViewSchema } },
    },
    async (req) => userView(await loadVisibleUser(ctx, resolveUserId(req, req.params.id))),
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
      const caller = req.auth!.user;
      const target = await loadVisibleUser(ctx, resolveUserId(req, req.params.id));
      const patch = req.body;
      if (!caller.isAdmin) {
        const forbidden = Object.keys(patch).filter((k) => !SELF_FIELDS.has(k));
        if (forbidden.length)
          throw userError(
            'PERMISSION_DENIED',
            `You do not have permission to change ${forbidden.join(', ')}.`,
          );
      }
      assertOwnerActionAllowed(caller, target, 'change');
      await assertAdminChangeAllowed(ctx, caller, target, patch);
      const renamed = patch.username !== undefined && patch.username !== target.username;
      const emailChanged = patch.email !== undefined && patch.email !== target.email;
      if (renamed) assertSensitiveChangeAllowed(caller, target, 'username');
      // the address receives password-reset links: changing it is as strong as setting the password
      if (emailChanged) assertSensitiveChangeAllowed(caller, target, 'email address');
      if (patch.username && patch.username.toLowerCase() !== target.username.toLowerCase()) {
        // deleted users keep their name until deleted permanently, as in Vtiger
        if (await findUserByUsername(db, patch.username))
          throw userError('USERNAME_TAKEN', `The username "${patch.username}" is already taken.`);
      }
      if (
        patch.roleId !== undefined &&
        !(await db.selectFrom('roles').select('id').where('id', '=', patch.roleId).executeTakeFirst())
      ) {
        throw userError('ROLE_NOT_FOUND', `There is no role ${patch.roleId}.`);
      }
      await authChangingTransaction(ctx, async (trx) => {
        await updateUserRow(trx, target.id, {
          ...toRowPatch(patch),
          ...(emailChanged ? { email_verified_at: null } : {}),
          updated_at: ctx.clock.now(),
        });
        if (emailChanged) await queueVerificationMail(ctx, trx, { ...target, email: patch.email! });
        if (renamed) {
          await recordAudit(
            trx,
            actorFromRequest(req),
            {
              action: 'user.username_changed',
              target: { type: 'user', id: target.id },
              details: { from: target.username, to: patch.username },
            },
            ctx.clock.now(),
          );
        }
        const deactivated = patch.status === 'Inactive' && target.status === 'Active';
        if (deactivated) await deleteUserSessions(trx, target.id);
        await recordAudit(
          trx,
          actorFromRequest(req),
          {
            action: 'user.updated',
            target: { type: 'user', id: target.id },
            details: { changes: diff(target, patch), sessionsEnded: deactivated },
          },
          ctx.clock.now(),
        );
      });
      if (emailChanged) ctx.mailQueue.kick();
      const warnings: string[] = [];
      if (renamed)
        warnings.push(
          `Web-service integrations sign in with the username: update every integration that used "${target.username}" to use "${patch.username}".`,
        );
      if (emailChanged)
        warnings.push(
          `A verification link was sent to ${patch.email}; until it is followed the address is unverified.`,
        );
      return { ...userView((await findUserById(db, target.id))!), warnings };
    },
  );
}

/** Vtiger's rule for usernames: another admin's only by the account owner (who is an admin too). */
function assertSensitiveChangeAllowed(caller: User, target: User, what: string): void {
  if (target.isAdmin && caller.id !== target.id && !caller.isOwner)
    throw userError(
      'PERMISSION_DENIED',
      `Only the account owner can change another administrator's ${what}.`,
    );
}

export async function loadVisibleUser(ctx: AppContext, id: number): Promise<User> {
  const user = await findUserById(ctx.db.kysely, id);
  if (!user || user.deletedAt !== null) throw userError('USER_NOT_FOUND', `There is no user ${id}.`);
  return user;
}

/** An admin may not lock themselves out, and the last active admin stays an active admin. */
async function assertAdminChangeAllowed(
  ctx: AppContext,
  caller: User,
  target: User,
  patch: z.infer<typeof patchBody>,
): Promise<void> {
  const losesAdmin =
    target.isAdmin && target.status === 'Active' && (patch.isAdmin === false || patch.status === 'Inactive');
  if (!losesAdmin) return;
  if (target.id === caller.id)
    throw userError(
      'CANNOT_CHANGE_OWN_ACCESS',
      'You cannot remove your own administrator access or deactivate yourself.',
    );
  if ((await countActiveAdmins(ctx.db.kysely)) <= 1)
    throw userError('LAST_ADMIN', 'This is the last active administrator.');
}

function toRowPatch(p: z.infer<typeof patchBody>): Partial<NewUserRow> {
  const out: Partial<NewUserRow> = {};
  if (p.username !== undefined)
    Object.assign(out, { username: p.username, username_key: p.username.toLowerCase() });
  if (p.firstName !== undefined) out.first_name = p.firstName;
  if (p.lastName !== undefined) out.last_name = p.lastName;
  if (p.email !== undefined) out.email = p.email;
  if (p.isAdmin !== undefined) out.is_admin = +p.isAdmin;
  if (p.roleId !== undefined) out.role_id = p.roleId;
  if (p.status !== undefined) out.status = p.status;
  if (p.timeZone !== undefined) out.time_zone = p.timeZone;
  if (p.dateFormat !== undefined) out.date_format = p.dateFormat;
  if (p.language !== undefined) out.language = p.language;
  return out;
}

function diff(before: User, patch: Record<string, unknown>): Record<string, { from: unknown; to: unknown }> {
  const out: Record<string, { from: unknown; to: unknown }> = {};
  for (const [k, v] of Object.entries(patch)) {
    const from = (before as unknown as Record<string, unknown>)[k];
    if (from !== v) out[k] = { from, to: v };
  }
  return out;
}
