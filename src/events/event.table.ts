import type { Generated, Selectable } from 'kysely';

/** The domain-event outbox: one row per event, written in the transaction of the change it describes. */
export interface DomainEventTable {
  id: Generated<number>;
  /** `record.created`, `record.updated`, `record.deleted` */
  type: string;
  module: string | null;
  record_id: number | null;
  actor_user_id: number | null;
  /** JSON object: the event's data (for records: the stored record after the change and the changes) */
  payload: string;
  created_at: number;
}

export type DomainEventRow = Selectable<DomainEventTable>;
