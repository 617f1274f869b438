import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../context.js';
import { userError } from './user.errors.js';

/**
 * The account owner (issue 14, finding 1): the one user with `is_owner` — the first administrator, until
 * they hand ownership to another active administrator. Only the owner changes the owner's account: its
 * names, email, username, password, access key, API access, admin flag, status, role, verification mail.
 * Other admins read the owner's profile and nothing more, so no admin can demote, deactivate, re-password
 * and then sign in as the owner, or borrow the owner's key to pass owner-only checks.
 */
export interface OwnerGuardParty {
  id: number;
  isOwner: boolean;
}

/** The rule, for routes and services alike: throws unless the target is not the owner or is the caller. */
export function assertOwnerActionAllowed(
  caller: OwnerGuardParty,
  target: OwnerGuardParty,
  what: string,
): void {
  if (target.isOwner && caller.id !== target.id && !caller.isOwner)
    throw userError('PERMISSION_DENIED', `Only the account owner can ${what} the account owner.`);
}

interface GuardedRoute {
  method: string;
  url: RegExp;
  what: string;
  /** a read that reveals nothing secret for this query is not guarded */
  unless?: (req: FastifyRequest) => boolean;
}

/**
 * Every route under /users/:id that changes the user or reveals their secrets. Deleting and restoring are
 * not listed: the owner cannot be deleted at all (CANNOT_DELETE_OWNER). `test/owner-account.test.ts`
 * fails when a new /users/:id route appears that is neither listed here nor declared harmless there.
 */
export const OWNER_GUARDED_ROUTES: GuardedRoute[] = [
  { method: 'PATCH', url: /^\/api\/v1\/users\/:id$/, what: 'change' },
  { method: 'POST', url: /^\/api\/v1\/users\/:id\/password$/, what: 'set the password of' },
  {
    method: 'GET',
    url: /^\/api\/v1\/users\/:id\/access-key$/,
    what: 'see the access key of',
    unless: (req) => (req.query as { reveal?: string }).reveal === 'false',
  },
  {
    method: 'POST',
    url: /^\/api\/v1\/users\/:id\/access-key\/regenerate$/,
    what: 'change the access key of',
  },
  { method: 'DELETE', url: /^\/api\/v1\/users\/:id\/access-key$/, what: 'clear the access key of' },
  { method: 'PUT', url: /^\/api\/v1\/users\/:id\/api-access$/, what: 'change API access for' },
  { method: 'POST', url: /^\/api\/v1\/users\/:id\/verification-email$/, what: 'send a verification link to' },
  { method: 'POST', url: /^\/api\/v1\/users\/:id\/impersonate$/, what: 'log in as' },
  { method: 'POST', url: /^\/api\/v1\/users\/:id\/impersonation-requests$/, what: 'ask to log in as' },
];

export function ownerGuardFor(method: string, routeUrl: string): GuardedRoute | undefined {
  return OWNER_GUARDED_ROUTES.find((r) => r.method === method && r.url.test(routeUrl));
}

/**
 * onRequest hook, after authentication: applies the rule to every guarded route before its handler runs,
 * so a route (or a service it moved into) that forgets to call `assertOwnerActionAllowed` is still covered.
 */
export function refuseOwnerChangesByOthers(ctx: AppContext) {
  return async (req: FastifyRequest): Promise<void> => {
    const caller = req.auth?.user;
    if (!caller || caller.isOwner) return;
    const guard = ownerGuardFor(req.method, req.routeOptions.url ?? '');
    if (!guard || guard.unless?.(req)) return;
    const raw = (req.params as { id?: string }).id;
    if (raw === undefined || raw === 'me' || !/^[1-9][0-9]{0,9}$/.test(raw)) return; // validation answers
    const id = Number(raw);
    if (id > 2_147_483_647 || id === caller.id) return;
    const target = await ctx.db.kysely
      .selectFrom('users')
      .select(['id', 'is_owner'])
      .where('id', '=', id)
      .executeTakeFirst();
    if (target)
      assertOwnerActionAllowed(caller, { id: target.id, isOwner: Boolean(target.is_owner) }, guard.what);
  };
}
