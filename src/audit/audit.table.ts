import type { Generated, Selectable } from 'kysely';

export interface AuditLogTable {
  id: Generated<number>;
  at: number;
  action: string;
  outcome: 'success' | 'failure';
  actor_user_id: number | null;
  actor_username: string | null;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  /** JSON object; never holds a secret */
  details: string;
}

export type AuditLogRow = Selectable<AuditLogTable>;
