import type { Generated, Selectable } from 'kysely';

export interface SessionTable {
  id: Generated<number>;
  /** SHA-256 of the cookie token; the token itself is never stored */
  token_hash: string;
  user_id: number;
  csrf_token: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  ip: string;
  user_agent: string;
  /** set while an admin is logged in as `user_id`: the admin's own user id */
  impersonator_user_id: number | null;
  impersonation_expires_at: number | null;
}

export interface AuthFailureTable {
  id: Generated<number>;
  /**
   * user: sign-in attempts for a username from anywhere (soft delay); user-ip: per (username, client IP),
   * key `ip|username` (blocks); ip: per client IP (blocks); forgot-*: reset requests; ws-challenge-ip:
   * getchallenge calls per IP; key-ip: failed access-key attempts per IP (PostgreSQL: shared by replicas)
   */
  scope: 'user' | 'ip' | 'user-ip' | 'forgot-login' | 'forgot-ip' | 'ws-challenge-ip' | 'key-ip';
  key: string;
  at: number;
}

export type SessionRow = Selectable<SessionTable>;
