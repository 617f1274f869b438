import type { UserRemovalHook } from '../users/user-removal.js';

/** A deleted user goes for good: checklist steps they last changed name the user who received their things. */
export const setupChecklistUserRemoval: UserRemovalHook = {
  feature: 'setup-checklist',
  async purged({ trx }, removal) {
    await trx
      .updateTable('setup_checklist')
      .set({ updated_by_user_id: removal.receiverId })
      .where('updated_by_user_id', '=', removal.userId)
      .execute();
  },
};
