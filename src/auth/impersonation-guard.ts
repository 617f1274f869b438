import type { FastifyRequest } from 'fastify';
import { errorTable } from '../http/errors.js';

export const impersonationError = errorTable({
  NOT_WHILE_IMPERSONATING: 403,
  NOT_IMPERSONATING: 409,
  IMPERSONATION_ENDED: 409,
  CANNOT_IMPERSONATE: 409,
  CONSENT_REQUIRED: 403,
  CONSENT_NOT_FOUND: 404,
  SESSION_REQUIRED: 400,
});

/**
 * Refuses the request while an admin is logged in as another user. Routes that reveal or change the
 * user's secrets call it: access keys (`/users/:id/access-key*`, `/users/:id/api-access`), passwords,
 * starting another impersonation, answering a consent request.
 */
export function assertNotImpersonating(req: FastifyRequest): void {
  const impersonator = req.auth?.impersonator;
  if (impersonator) {
    throw impersonationError(
      'NOT_WHILE_IMPERSONATING',
      `You are logged in as ${req.auth!.user.username}. This cannot be done while logged in as another user; ` +
        'stop with POST /api/v1/auth/stop-impersonating first.',
    );
  }
}

/**
 * Route patterns that reveal or change a user's secrets. Refused for the whole app while impersonating
 * (defence in depth: a route that forgets `assertNotImpersonating` is still covered).
 */
const SECRET_ROUTES = [
  /^\/api\/v1\/users\/:id\/access-key(\/.*)?$/,
  /^\/api\/v1\/users\/:id\/api-access$/,
  /^\/api\/v1\/users\/:id\/password$/,
  /^\/api\/v1\/users\/:id\/impersonate$/,
  /^\/api\/v1\/api-access\/users$/,
  /^\/api\/v1\/webhooks\/:id\/(secret|rotate-secret)$/,
];

export function isSecretRoute(routeUrl: string): boolean {
  return SECRET_ROUTES.some((re) => re.test(routeUrl));
}

/** onRequest hook, after authentication. */
export async function refuseSecretRoutesWhileImpersonating(req: FastifyRequest): Promise<void> {
  if (req.auth?.impersonator && isSecretRoute(req.routeOptions.url ?? '')) assertNotImpersonating(req);
}
