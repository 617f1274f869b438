import type { FastifyRequest } from 'fastify';
import { userError } from './user.errors.js';

/**
 * A preValidation hook for routes under /users/:id that act on that user's own things: only the user
 * themselves (`me` or their id) and admins get past it. It runs before body validation, so a caller who
 * may not act learns nothing about the request shape.
 */
export function selfOrAdmin(what: string) {
  return async (req: FastifyRequest): Promise<void> => {
    const auth = req.auth;
    if (!auth || auth.user.isAdmin) return;
    const raw = (req.params as { id?: string }).id;
    if (raw === 'me' || raw === String(auth.user.id)) return;
    throw userError('PERMISSION_DENIED', `Permission denied: only administrators can ${what} another user.`);
  };
}
