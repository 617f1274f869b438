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
   * key `ip|username` (blocks); ip: per client IP (blocks); forgot-*: reset requests; key-ip: failed
   * access-key attempts per IP (PostgreSQL: shared by replicas). getchallenge calls per IP were
   * `ws-challenge-ip` rows until migration 0024 moved them to `rate_counts`.
   */
  scope: 'user' | 'ip' | 'user-ip' | 'forgot-login' | 'forgot-ip' | 'key-ip';
  key: string;
  at: number;
}

/** Calls counted per scope, key and second (epoch ms at the second's start), for limits over a window. */
export interface RateCountTable {
  /** ws-challenge-ip: getchallenge calls per client IP */
  scope: 'ws-challenge-ip';
  key: string;
  second: number;
  n: number;
}

export type SessionRow = Selectable<SessionTable>;
