import type { Transaction } from 'kysely';
import type { AppContext } from '../context.js';
import type { Database } from '../db/schema.js';

/**
 * For writes that change who may do what (keys, API access, users, roles, profiles, sharing): runs the
 * transaction, then drops this process's cached key lookups and permissions before the response leaves.
 */
export async function authChangingTransaction<T>(
  ctx: AppContext,
  fn: (trx: Transaction<Database>) => Promise<T>,
): Promise<T> {
  const result = await ctx.db.kysely.transaction().execute(fn);
  ctx.authCache.clear();
  return result;
}
