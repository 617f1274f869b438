import type { FastifyRequest } from 'fastify';
import { authenticateWithKey } from '../access-keys/key-auth.js';
import type { AppContext } from '../context.js';
import { safeEqual } from '../platform/crypto.js';
import { authError } from './auth.errors.js';
import { impersonationError } from './impersonation-guard.js';
import { resolveSession, SESSION_COOKIE } from './session.service.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Runs before body parsing on every request: resolves the caller from an access key (Authorization header)
 * or a session cookie, and enforces the
 * route's declared access level and, for cookie-authenticated writes, the CSRF token.
 */
export async function authenticateRequest(ctx: AppContext, req: FastifyRequest): Promise<void> {
  const access = req.routeOptions.config?.access ?? 'public';
  if (access === 'public') return;
  // checked first: such a token is not an access key, and must not count as a failed key
  if (req.routeOptions.config?.alternativeCredential?.(req)) return;

  const authorization = req.headers.authorization;
  if (authorization !== undefined) {
    // an access key carries no ambient authority, so key-authenticated writes need no CSRF token
    req.auth = await authenticateWithKey(ctx, req, authorization);
    assertAccess(req, access);
    return;
  }
  const token = req.cookies[SESSION_COOKIE];
  if (!token) {
    throw authError(
      'AUTHENTICATION_REQUIRED',
      'Sign in, or send your access key as "Authorization: Bearer <key>" or HTTP Basic username:key.',
    );
  }
  const found = await resolveSession(ctx, token);
  if (!found.ok) {
    if (found.reason === 'impersonation-ended') {
      throw impersonationError(
        'IMPERSONATION_ENDED',
        'Your "log in as" session has ended (it lasts at most 1 hour). You are back in your own account; ' +
          'nothing was done for this request.',
      );
    }
    throw found.reason === 'expired'
      ? authError('SESSION_EXPIRED', 'Your session has expired. Sign in again.')
      : authError('AUTHENTICATION_REQUIRED', 'Your session is no longer valid. Sign in again.');
  }
  req.auth = { user: found.user, method: 'session', session: found.session };
  if (found.impersonator) {
    req.auth.impersonator = found.impersonator;
    req.auth.impersonationExpiresAt = found.impersonationExpiresAt;
  }

  if (!SAFE_METHODS.has(req.method)) {
    const sent = req.headers['x-csrf-token'];
    if (typeof sent !== 'string' || !safeEqual(sent, found.session.csrfToken)) {
      throw authError('CSRF_TOKEN_INVALID', 'Missing or wrong X-CSRF-Token header for a signed-in change.');
    }
  }
  assertAccess(req, access);
}

function assertAccess(req: FastifyRequest, access: string): void {
  if (access === 'admin' && !req.auth?.user.isAdmin) {
    throw authError('PERMISSION_DENIED', 'You do not have permission to do this: it needs an administrator.');
  }
}
