import type { Transaction } from 'kysely';
import { CLI_ACTOR } from '../audit/audit.repository.js';
import type { AppContext } from '../context.js';
import type { Database } from '../db/schema.js';
import { withUnitOfWork } from '../db/unit-of-work.js';

/**
 * For writes that change who may do what (keys, API access, users, roles, profiles, sharing): a unit of
 * work that drops this process's cached key lookups and permissions after commit, before the response
 * leaves. New code calls `withUnitOfWork` and `uow.invalidatesAuth()` itself; this remains for callers
 * that only need the transaction.
 */
export async function authChangingTransaction<T>(
  ctx: AppContext,
  fn: (trx: Transaction<Database>) => Promise<T>,
): Promise<T> {
  return withUnitOfWork(ctx, CLI_ACTOR, (uow) => {
    uow.invalidatesAuth();
    return fn(uow.trx);
  });
}
