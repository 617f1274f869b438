import type { Generated, Selectable } from 'kysely';

export interface UserTable {
  id: Generated<number>;
  username: string;
  /** lower-cased username: uniqueness is case-insensitive */
  username_key: string;
  password_hash: string;
  first_name: string;
  last_name: string;
  email: string;
  status: 'Active' | 'Inactive';
  is_admin: number | boolean;
  /** the account owner (the first admin): only they may act on other admins in sensitive ways */
  is_owner: number | boolean;
  role_id: number;
  time_zone: string;
  date_format: string;
  language: string;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
  /** owned by the access-keys feature: whether the user's key may be used (Crelate's "API access") */
  api_access: Generated<number | boolean>;
}

export type UserRow = Selectable<UserTable>;
