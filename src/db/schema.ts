import type { AccessKeyTable, AccessKeyUsageTable } from '../access-keys/access-key.table.js';
import type { AuditLogTable } from '../audit/audit.table.js';
import type { AuthFailureTable, SessionTable } from '../auth/session.table.js';
import type {
  ProfilePermissionTable,
  ProfileTable,
  RoleProfileTable,
  RoleTable,
  SharingDefaultTable,
} from '../roles/role.table.js';
import type { UserTable } from '../users/user.table.js';

export interface Database {
  users: UserTable;
  roles: RoleTable;
  profiles: ProfileTable;
  role_profiles: RoleProfileTable;
  profile_permissions: ProfilePermissionTable;
  sharing_defaults: SharingDefaultTable;
  sessions: SessionTable;
  auth_failures: AuthFailureTable;
  audit_log: AuditLogTable;
  access_keys: AccessKeyTable;
  access_key_usage: AccessKeyUsageTable;
}
