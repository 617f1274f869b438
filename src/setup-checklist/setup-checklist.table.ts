import type { Selectable } from 'kysely';

export type ChecklistStatus = 'not_started' | 'in_progress' | 'done' | 'skipped';

export interface SetupChecklistTable {
  step: string;
  position: number;
  status: ChecklistStatus;
  notes: string;
  updated_at: number | null;
  updated_by_user_id: number | null;
}

export type SetupChecklistRow = Selectable<SetupChecklistTable>;
