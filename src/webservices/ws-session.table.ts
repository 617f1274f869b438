import type { Generated, Selectable } from 'kysely';

/** Vtiger's one live token per user; no longer used (issue 14): see WsChallengeTokenTable. */
export interface WsChallengeTable {
  user_id: number;
  token: string;
  created_at: number;
  expires_at: number;
}

/** Live getchallenge tokens: several per user, a few per (user, client IP); each reusable until it expires. */
export interface WsChallengeTokenTable {
  id: Generated<number>;
  user_id: number;
  token: string;
  ip: string;
  created_at: number;
  expires_at: number;
}

export interface WsSessionTable {
  id: Generated<number>;
  /** SHA-256 of the sessionName; the name itself is never stored */
  session_hash: string;
  user_id: number;
  /** the access key the session was opened with: the session dies when it is no longer current */
  key_id: number;
  created_at: number;
  last_seen_at: number;
  ip: string;
}

export type WsSessionRow = Selectable<WsSessionTable>;
