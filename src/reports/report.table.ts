import type { Generated, Selectable } from 'kysely';

export interface ReportTable {
  id: Generated<number>;
  owner_id: number;
  name: string;
  description: string;
  primary_module: string;
  /** JSON ReportDefinition */
  definition: string;
  visibility: 'private' | 'shared' | 'public';
  /** JSON number[] */
  shared_user_ids: string;
  /** JSON number[] */
  shared_role_ids: string;
  created_at: number;
  updated_at: number;
}

export interface ReportScheduleTable {
  id: Generated<number>;
  report_id: number;
  frequency: 'daily' | 'weekly' | 'monthly' | 'once';
  /** JSON number[] (0 = Sunday) for weekly */
  weekdays: string;
  day_of_month: number | null;
  /** YYYY-MM-DD for once */
  on_date: string | null;
  /** HH:MM, UTC */
  time_utc: string;
  recipient_user_ids: string;
  recipient_role_ids: string;
  recipient_emails: string;
  enabled: number | boolean;
  next_run_at: number | null;
  last_run_at: number | null;
  created_at: number;
}

export type ReportRow = Selectable<ReportTable>;
export type ReportScheduleRow = Selectable<ReportScheduleTable>;
