import type { Generated, Selectable } from 'kysely';

export type UserTokenPurpose = 'password_reset' | 'email_verification';

/** Single-use emailed tokens; only the SHA-256 of the token is stored. */
export interface UserTokenTable {
  id: Generated<number>;
  user_id: number;
  purpose: UserTokenPurpose;
  token_hash: string;
  /** the address the link was sent to: verification counts only while it is still the user's address */
  email: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export type UserTokenRow = Selectable<UserTokenTable>;
