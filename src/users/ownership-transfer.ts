import type { Transaction } from 'kysely';
import type { Database } from '../db/schema.js';

/**
 * Moves what `fromUserId` owns to `toUserId` inside the delete's transaction and answers how many rows
 * moved. Each feature that owns things per user (records, reports, mailroom rules, webhooks) provides one;
 * `createContext` registers them in `AppContext.ownershipTransfers`.
 */
export type OwnershipTransfer = (
  trx: Transaction<Database>,
  fromUserId: number,
  toUserId: number,
  now: number,
) => Promise<number>;

/**
 * Runs when a user is deleted (soft or permanent), in the same transaction: destroys per-user secrets that
 * must die at once, such as the access key (`access_keys` row on main). Registered in
 * `AppContext.userRemovalHooks`.
 */
export type UserRemovalHook = (trx: Transaction<Database>, userId: number, now: number) => Promise<void>;
