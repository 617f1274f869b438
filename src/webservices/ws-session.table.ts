import type { Generated, Selectable } from 'kysely';

/** One live getchallenge token per user (a new getchallenge replaces it), as in Vtiger. */
export interface WsChallengeTable {
  user_id: number;
  token: string;
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
