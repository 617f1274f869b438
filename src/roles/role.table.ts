import type { Generated, Selectable } from 'kysely';

export interface RoleTable {
  id: Generated<number>;
  name: string;
  parent_id: number | null;
  /** materialised path of ids, e.g. `/1/2/5/`: subordinates are the rows whose path starts with ours */
  path: string;
  depth: number;
  created_at: number;
}

export interface ProfileTable {
  id: Generated<number>;
  name: string;
  description: string;
  created_at: number;
}

export interface RoleProfileTable {
  role_id: number;
  profile_id: number;
}

export interface ProfilePermissionTable {
  profile_id: number;
  module: string;
  can_view: number | boolean;
  can_create: number | boolean;
  can_edit: number | boolean;
  can_delete: number | boolean;
}

export interface SharingDefaultTable {
  module: string;
  access: 'private' | 'public_read' | 'public_read_write';
}

export type RoleRow = Selectable<RoleTable>;
export type ProfileRow = Selectable<ProfileTable>;
export type ProfilePermissionRow = Selectable<ProfilePermissionTable>;
