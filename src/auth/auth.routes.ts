import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorFromRequest, recordAudit } from '../audit/audit.repository.js';
import type { AppContext } from '../context.js';
import { transaction } from '../db/direct-transaction.js';
import { CRM_MODULES } from '../roles/modules.js';
import { canUseModule, MODULE_ACTIONS } from '../roles/permissions.js';
import { principalFor } from '../roles/principal.js';
import { userView, userViewSchema } from '../users/user.model.js';
import { findPasswordHash, findUserByUsername } from '../users/user.repository.js';
import { authError } from './auth.errors.js';
import { beginLoginAttempt, loginAttemptSucceeded, settleLoginAttempt } from './login-throttle.js';
import { deleteSession } from './session.repository.js';
import { createSession, SESSION_COOKIE, sweepSessions } from './session.service.js';

const grantsSchema = z.object({
  view: z.boolean(),
  create: z.boolean(),
  edit: z.boolean(),
  delete: z.boolean(),
});
const meSchema = z.object({
  user: userViewSchema,
  authMethod: z.enum(['session', 'access-key']),
  csrfToken: z.string().nullable().describe('send as X-CSRF-Token on cookie-authenticated writes'),
  impersonatedBy: z
    .object({ id: z.number().int(), username: z.string() })
    .nullable()
    .describe('set while an admin is logged in as this user ("log in as"): show a banner'),
  impersonationEndsAt: z.string().nullable(),
  permissions: z.record(z.string(), grantsSchema),
});

export async function authRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const db = ctx.db.kysely;
  const tags = ['Authentication'];

  r.post(
    '/auth/login',
    {
      config: { access: 'public' },
      schema: {
        tags,
        summary: 'Sign in with username and password; sets an HttpOnly session cookie',
        security: [],
        body: z.object({ username: z.string().min(1).max(200), password: z.string().min(1).max(1024) }),
        response: { 200: z.object({ user: userViewSchema, csrfToken: z.string() }) },
      },
    },
    async (req, reply) => {
      const { username, password } = req.body;
      const ip = req.ip;
      const attempt = await beginLoginAttempt(ctx, username, ip);
      try {
        const user = await findUserByUsername(db, username);
        const hash = user && user.deletedAt === null ? await findPasswordHash(db, user.id) : undefined;
        const passwordOk = await ctx.passwords.verify(hash, password);
        if (!user || !passwordOk) {
          await transaction(db, async (trx) => {
            await recordAudit(
              trx,
              { ...actorFromRequest(req), userId: user?.id ?? null, username: user?.username ?? null },
              {
                action: 'auth.login',
                outcome: 'failure',
                details: { reason: 'invalid_credentials', ...attemptedUsername(ctx, user, username) },
              },
              ctx.clock.now(),
            );
          });
          throw authError('INVALID_CREDENTIALS', 'Wrong username or password.');
        }
        if (user.status !== 'Active') {
          await recordAudit(
            db,
            { ...actorFromRequest(req), userId: user.id, username: user.username },
            { action: 'auth.login', outcome: 'failure', details: { reason: 'inactive' } },
            ctx.clock.now(),
          );
          throw authError(
            'ACCOUNT_INACTIVE',
            'This account is inactive. Ask an administrator to activate it.',
          );
        }
        await sweepSessions(ctx);
        const session = await transaction(db, async (trx) => {
          const s = await createSession(ctx, trx, user, {
            ip,
            userAgent: String(req.headers['user-agent'] ?? ''),
          });
          await loginAttemptSucceeded(trx, attempt);
          await recordAudit(
            trx,
            { ...actorFromRequest(req), userId: user.id, username: user.username },
            { action: 'auth.login', details: { sessionId: s.id } },
            ctx.clock.now(),
          );
          return s;
        });
        setSessionCookie(ctx, req, reply, session.token, session.expiresAt);
        return { user: userView(user), csrfToken: session.csrfToken };
      } finally {
        settleLoginAttempt(ctx, attempt);
      }
    },
  );

  r.post(
    '/auth/logout',
    {
      config: { access: 'authenticated' },
      schema: { tags, summary: 'End the current session', response: { 204: z.null() } },
    },
    async (req, reply) => {
      const session = req.auth?.session;
      if (session) {
        await transaction(db, async (trx) => {
          await deleteSession(trx, session.id);
          await recordAudit(
            trx,
            actorFromRequest(req),
            { action: 'auth.logout', details: { sessionId: session.id } },
            ctx.clock.now(),
          );
        });
      }
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return reply.code(204).send(null);
    },
  );

  r.get(
    '/me',
    {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary: 'Who am I: the signed-in user, how they authenticated, and what they may do',
        response: { 200: meSchema },
      },
    },
    async (req) => {
      const auth = req.auth!;
      const principal = await principalFor(ctx, auth.user);
      return {
        user: userView(auth.user),
        authMethod: auth.method,
        csrfToken: auth.session?.csrfToken ?? null,
        impersonatedBy: auth.impersonator ?? null,
        impersonationEndsAt: auth.impersonationExpiresAt
          ? new Date(auth.impersonationExpiresAt).toISOString()
          : null,
        permissions: Object.fromEntries(
          CRM_MODULES.map((m) => [
            m,
            Object.fromEntries(MODULE_ACTIONS.map((a) => [a, canUseModule(principal, m, a)])),
          ]),
        ) as Record<string, Record<(typeof MODULE_ACTIONS)[number], boolean>>,
      };
    },
  );
}

function setSessionCookie(
  ctx: AppContext,
  req: FastifyRequest,
  reply: FastifyReply,
  token: string,
  expiresAt: number,
): void {
  const secure =
    ctx.config.session.cookieSecure === 'auto' ? req.protocol === 'https' : ctx.config.session.cookieSecure;
  reply.setCookie(SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: 'strict',
    secure,
    path: '/',
    expires: new Date(expiresAt),
  });
}

/**
 * What a failed sign-in records of the name typed (issue 14, finding 10). A known user's name is theirs;
 * anything else may be a password typed into the wrong box, so only a keyed digest of it is kept: equal
 * for repeated attempts with the same text (to spot guessing), useless for reading it back.
 */
function attemptedUsername(
  ctx: AppContext,
  user: { username: string } | undefined,
  typed: string,
): { attemptedUsername: string } | { attemptedUsernameDigest: string } {
  if (user) return { attemptedUsername: user.username };
  return {
    attemptedUsernameDigest: ctx.secrets.digest(`failed-login-username:${typed.toLowerCase()}`).slice(0, 16),
  };
}
