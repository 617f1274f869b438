/** Organisation-wide settings, one JSON value per section key. */
export interface SettingsTable {
  key: string;
  value: string;
  updated_at: number;
  updated_by_user_id: number | null;
}
