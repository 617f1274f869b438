import type { AppContext } from '../context.js';
import type { User } from '../users/user.model.js';
import type { Principal } from './permissions.js';
import { loadPrincipal } from './role.repository.js';

/** The user's permissions, from the auth cache while fresh (cleared on every role, profile or user change). */
export async function principalFor(ctx: AppContext, user: User): Promise<Principal> {
  return ctx.authCache.principalThrough(user.id, ctx.db.kysely, () => loadPrincipal(ctx.db.kysely, user));
}
