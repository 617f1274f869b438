import type { Generated, Selectable } from 'kysely';

/** One row per change to a record, whichever channel made it: the record's history. */
export interface RecordChangeTable {
  id: Generated<number>;
  record_id: number;
  module: string;
  /** created | updated | deleted */
  action: string;
  at: number;
  actor_user_id: number | null;
  /** the actor's username at the time (kept when the user is later deleted for good) */
  actor_name: string | null;
  /** the administrator behind the change while "logged in as" the actor */
  impersonator_name: string | null;
  /** web | api | webservice | mailroom | system */
  channel: string;
  /** what made the change when it was not the actor's own edit, in words (a mailroom rule, a user deletion) */
  source: string | null;
  request_id: string | null;
  /** JSON object `{field: [old, new]}` of domain values */
  changes: string;
}

export type RecordChangeRow = Selectable<RecordChangeTable>;
