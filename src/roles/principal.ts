import type { AppContext } from '../context.js';
import type { User } from '../users/user.model.js';
import type { Principal } from './permissions.js';
import { loadPrincipal } from './role.repository.js';

/** The user's permissions, from the auth cache while fresh (cleared on every role, profile or user change). */
export async function principalFor(ctx: AppContext, user: User): Promise<Principal> {
  const cached = ctx.authCache.getPrincipal(user.id);
  if (cached) return cached;
  const generation = ctx.authCache.generation;
  const principal = await ctx.authCache.once(`principal:${user.id}`, ctx.db.kysely, () =>
    loadPrincipal(ctx.db.kysely, user),
  );
  ctx.authCache.setPrincipal(user.id, principal, generation);
  return principal;
}
