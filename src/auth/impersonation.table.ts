import type { Generated, Selectable } from 'kysely';

/** An admin's request to log in as a user, when the organisation requires the user's consent. */
export interface ImpersonationConsentTable {
  id: Generated<number>;
  admin_user_id: number;
  target_user_id: number;
  reason: string;
  status: 'pending' | 'approved' | 'denied' | 'used';
  created_at: number;
  /** a pending or approved request lapses at this time */
  expires_at: number;
  decided_at: number | null;
}

export type ImpersonationConsentRow = Selectable<ImpersonationConsentTable>;
