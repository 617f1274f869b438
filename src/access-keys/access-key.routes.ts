import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorFromRequest, recordAudit } from '../audit/audit.repository.js';
import type { AppContext } from '../context.js';
import { withUnitOfWork } from '../db/unit-of-work.js';
import { selfOrAdmin } from '../users/self-or-admin.js';
import type { User } from '../users/user.model.js';
import { findUserById } from '../users/user.repository.js';
import { resolveUserId, userIdParam } from '../users/user.routes.js';
import { keyError } from './access-key.errors.js';
import { keyHint } from './access-key.format.js';
import { deleteKeyOfUser, listApiUsers, setApiAccess } from './access-key.repository.js';
import { issueKey, loadKeyForUser } from './access-key.service.js';

export const REGENERATE_REMINDER =
  'Your access key has changed. Replace the old key with the new one in every integration and extension that uses it: the old key no longer works.';

const keyViewSchema = z
  .object({
    accessKey: z
      .string()
      .nullable()
      .describe('null after an administrator cleared the key, or when not revealed'),
    hasKey: z.boolean().describe('false after an administrator cleared the key'),
    hint: z
      .string()
      .nullable()
      .describe('the first and last characters, safe to show without revealing the key'),
    apiAccess: z.boolean(),
    createdAt: z.string().nullable(),
    lastUsedAt: z.string().nullable(),
    lastUsedIp: z.string().nullable(),
  })
  .meta({ id: 'AccessKey' });

const iso = (ms: number | null | undefined) => (ms == null ? null : new Date(ms).toISOString());

export async function accessKeyRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const db = ctx.db.kysely;
  const tags = ['Access keys'];
  const authenticated = { access: 'authenticated' as const };

  /**
   * The user whose key the route acts on. selfOrAdmin already checked the caller, and the app-wide
   * impersonation guard refuses these routes while an admin is logged in as someone else.
   */
  async function keyOwner(req: FastifyRequest, id: number | 'me'): Promise<User> {
    const targetId = resolveUserId(req, id);
    const user = await findUserById(db, targetId);
    if (!user || user.deletedAt !== null) throw keyError('USER_NOT_FOUND', `There is no user ${targetId}.`);
    return user;
  }

  async function view(req: FastifyRequest, user: User) {
    let key = await loadKeyForUser(ctx, user.id);
    if (!key && user.apiAccess) {
      // found without a key (never blank): generate one now
      await withUnitOfWork(ctx, actorFromRequest(req), (uow) => {
        uow.invalidatesAuth();
        return issueKey(ctx, uow.trx, user.id);
      });
      key = await loadKeyForUser(ctx, user.id);
    }
    const apiAccess = key?.apiAccess ?? user.apiAccess;
    return {
      accessKey: key?.plaintext ?? null,
      hasKey: key !== null,
      hint: key ? keyHint(key.plaintext) : null,
      apiAccess,
      createdAt: iso(key?.createdAt),
      lastUsedAt: iso(key?.lastUsedAt),
      lastUsedIp: key?.lastUsedIp ?? null,
    };
  }

  r.get(
    '/users/:id/access-key',
    {
      config: authenticated,
      preValidation: selfOrAdmin('view the access key of'),
      schema: {
        tags,
        summary:
          "A user's access key (the owner, or an admin). Revealing it is audited; reveal=false gives only its status.",
        params: userIdParam,
        querystring: z.object({
          reveal: z
            .enum(['true', 'false'])
            .default('true')
            .describe('false: leave accessKey null (status only, not audited as a reveal)'),
        }),
        response: { 200: keyViewSchema },
      },
    },
    async (req) => {
      const user = await keyOwner(req, req.params.id);
      const shown = await view(req, user);
      if (req.query.reveal === 'false') return { ...shown, accessKey: null };
      await recordAudit(
        db,
        actorFromRequest(req),
        {
          action: 'access_key.viewed',
          target: { type: 'user', id: user.id },
          details: { revealed: shown.hasKey },
        },
        ctx.clock.now(),
      );
      return shown;
    },
  );

  r.post(
    '/users/:id/access-key/regenerate',
    {
      config: authenticated,
      preValidation: selfOrAdmin('change the access key of'),
      schema: {
        tags,
        summary: 'Regenerate access key: issue a new key; the old one fails on the very next request',
        params: userIdParam,
        response: { 200: keyViewSchema.extend({ reminder: z.string() }) },
      },
    },
    async (req) => {
      const user = await keyOwner(req, req.params.id);
      await withUnitOfWork(ctx, actorFromRequest(req), async (uow) => {
        uow.invalidatesAuth();
        const { keyId } = await issueKey(ctx, uow.trx, user.id);
        await uow.audit({
          action: 'access_key.regenerated',
          target: { type: 'user', id: user.id },
          details: { keyId },
        });
      });
      return { ...(await view(req, user)), reminder: REGENERATE_REMINDER };
    },
  );

  r.delete(
    '/users/:id/access-key',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Clear API Key (admins): destroy the key and turn API access off',
        params: userIdParam,
        response: { 204: z.null() },
      },
    },
    async (req, reply) => {
      const user = await keyOwner(req, req.params.id);
      await withUnitOfWork(ctx, actorFromRequest(req), async (uow) => {
        uow.invalidatesAuth();
        const hadKey = await deleteKeyOfUser(uow.trx, user.id);
        await setApiAccess(uow.trx, user.id, false, uow.now);
        await uow.audit({
          action: 'access_key.cleared',
          target: { type: 'user', id: user.id },
          details: { hadKey },
        });
      });
      return reply.code(204).send(null);
    },
  );

  r.put(
    '/users/:id/api-access',
    {
      config: authenticated,
      preValidation: selfOrAdmin('change API access for'),
      schema: {
        tags,
        summary:
          'Turn API access on or off. Off: the key is refused everywhere. On without a key: a key is generated.',
        params: userIdParam,
        body: z.object({ enabled: z.boolean() }),
        response: { 200: keyViewSchema },
      },
    },
    async (req) => {
      const user = await keyOwner(req, req.params.id);
      const { enabled } = req.body;
      await withUnitOfWork(ctx, actorFromRequest(req), async (uow) => {
        uow.invalidatesAuth();
        await setApiAccess(uow.trx, user.id, enabled, uow.now);
        await uow.audit({
          action: enabled ? 'api_access.enabled' : 'api_access.disabled',
          target: { type: 'user', id: user.id },
        });
      });
      return view(req, { ...user, apiAccess: enabled });
    },
  );

  r.get(
    '/api-access/users',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'API Management: users with API access on, their key and its use',
        response: {
          200: z.object({
            items: z.array(
              z.object({
                user: z.object({
                  id: z.number().int(),
                  username: z.string(),
                  firstName: z.string(),
                  lastName: z.string(),
                  email: z.string(),
                  status: z.string(),
                }),
                keyCreatedAt: z.string().nullable(),
                lastUsedAt: z.string().nullable(),
                lastUsedIp: z.string().nullable(),
                requestsLast24h: z.number().int(),
              }),
            ),
          }),
        },
      },
    },
    async () => {
      await ctx.keyUsage.flush();
      const rows = await listApiUsers(db, ctx.clock.now() - 24 * 3_600_000);
      return {
        items: rows.map((u) => ({
          user: {
            id: u.id,
            username: u.username,
            firstName: u.first_name,
            lastName: u.last_name,
            email: u.email,
            status: u.status,
          },
          keyCreatedAt: iso(u.key_created_at),
          lastUsedAt: iso(u.last_used_at),
          lastUsedIp: u.last_used_ip,
          requestsLast24h: Number(u.requests ?? 0),
        })),
      };
    },
  );
}
