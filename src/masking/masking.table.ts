import type { Generated } from 'kysely';

export interface MaskingRuleTable {
  id: Generated<number>;
  module: string;
  field: string;
  /** `module`: masked for every user; `role`: masked for the rule's roles */
  level: 'module' | 'role';
  include_subordinates: number | boolean;
  keep_first: number;
  keep_last: number;
  created_at: number;
  updated_at: number;
}

export interface MaskingRuleRoleTable {
  rule_id: number;
  role_id: number;
}

/** Profiles granting the Unmask permission (reveal one masked value at a time, audited). */
export interface ProfileUnmaskTable {
  profile_id: number;
}
