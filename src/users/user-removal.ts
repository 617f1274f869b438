import type { UnitOfWork } from '../db/unit-of-work.js';

/** A user being deleted, and the active user who receives what they owned. */
export interface UserRemoval {
  userId: number;
  username: string;
  receiverId: number;
  receiverName: string;
}

/**
 * What a feature does when a user is deleted, in the delete's unit of work (so it all commits or none of
 * it does). Each feature that keeps things per user registers one in `AppContext.userRemovalHooks`; the
 * users feature never writes another feature's tables.
 */
export interface UserRemovalHook {
  feature: string;
  /**
   * The user is deleted (restorable): move what they own to the receiver, end what must end at once
   * (sessions, keys). Answers how many records moved, when it moves records.
   */
  deleted?(uow: UnitOfWork, removal: UserRemoval): Promise<number | undefined>;
  /** The deleted user goes for good: point remaining references at the receiver so every foreign key holds. */
  purged?(uow: UnitOfWork, removal: UserRemoval): Promise<void>;
}
