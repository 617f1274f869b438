import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/schema.js';
import type { MaskPattern } from './mask-format.js';

type Q = Kysely<Database> | Transaction<Database>;

export type MaskLevel = 'module' | 'role';

export interface MaskingRule {
  id: number;
  module: string;
  field: string;
  level: MaskLevel;
  /** role level: the roles whose users see the field masked */
  roleIds: number[];
  /** role level: users in roles below the listed roles are masked too */
  includeSubordinates: boolean;
  pattern: MaskPattern;
  createdAt: number;
  updatedAt: number;
}

export async function listRules(db: Q): Promise<MaskingRule[]> {
  const [rows, links] = await Promise.all([
    db.selectFrom('masking_rules').selectAll().orderBy('module').orderBy('field').execute(),
    db.selectFrom('masking_rule_roles').selectAll().orderBy('role_id').execute(),
  ]);
  return rows.map((r) => ({
    id: r.id,
    module: r.module,
    field: r.field,
    level: r.level,
    roleIds: links.filter((l) => l.rule_id === r.id).map((l) => l.role_id),
    includeSubordinates: Boolean(r.include_subordinates),
    pattern: { keepFirst: r.keep_first, keepLast: r.keep_last },
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  }));
}

export async function findRule(db: Q, id: number): Promise<MaskingRule | undefined> {
  return (await listRules(db)).find((r) => r.id === id);
}

export interface RuleValues {
  module: string;
  field: string;
  level: MaskLevel;
  roleIds: number[];
  includeSubordinates: boolean;
  pattern: MaskPattern;
}

export async function insertRule(trx: Q, v: RuleValues, now: number): Promise<number> {
  const row = await trx
    .insertInto('masking_rules')
    .values({
      module: v.module,
      field: v.field,
      level: v.level,
      include_subordinates: +v.includeSubordinates,
      keep_first: v.pattern.keepFirst,
      keep_last: v.pattern.keepLast,
      created_at: now,
      updated_at: now,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await setRuleRoles(trx, row.id, v.level === 'role' ? v.roleIds : []);
  return row.id;
}

export async function updateRule(trx: Q, id: number, v: RuleValues, now: number): Promise<void> {
  await trx
    .updateTable('masking_rules')
    .set({
      level: v.level,
      include_subordinates: +v.includeSubordinates,
      keep_first: v.pattern.keepFirst,
      keep_last: v.pattern.keepLast,
      updated_at: now,
    })
    .where('id', '=', id)
    .execute();
  await setRuleRoles(trx, id, v.level === 'role' ? v.roleIds : []);
}

async function setRuleRoles(trx: Q, ruleId: number, roleIds: number[]): Promise<void> {
  await trx.deleteFrom('masking_rule_roles').where('rule_id', '=', ruleId).execute();
  for (const role_id of new Set(roleIds))
    await trx.insertInto('masking_rule_roles').values({ rule_id: ruleId, role_id }).execute();
}

export async function deleteRule(trx: Q, id: number): Promise<void> {
  await trx.deleteFrom('masking_rules').where('id', '=', id).execute();
}

export async function unmaskProfileIds(db: Q): Promise<number[]> {
  const rows = await db.selectFrom('profile_unmask').select('profile_id').orderBy('profile_id').execute();
  return rows.map((r) => r.profile_id);
}

export async function setUnmaskProfiles(trx: Q, profileIds: number[]): Promise<void> {
  await trx.deleteFrom('profile_unmask').execute();
  for (const profile_id of new Set(profileIds))
    await trx.insertInto('profile_unmask').values({ profile_id }).execute();
}

/** Roles whose profiles grant Unmask. */
export async function unmaskRoleIds(db: Q): Promise<number[]> {
  const rows = await db
    .selectFrom('role_profiles')
    .innerJoin('profile_unmask', 'profile_unmask.profile_id', 'role_profiles.profile_id')
    .select('role_profiles.role_id')
    .distinct()
    .execute();
  return rows.map((r) => r.role_id);
}

export async function rolePaths(db: Q): Promise<Map<number, string>> {
  const rows = await db.selectFrom('roles').select(['id', 'path']).execute();
  return new Map(rows.map((r) => [r.id, r.path]));
}
