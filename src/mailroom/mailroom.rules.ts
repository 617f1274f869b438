import type { Kysely, Transaction } from 'kysely';
import { z } from 'zod';
import type { Database } from '../db/schema.js';
import type { UserRemovalHook } from '../users/user-removal.js';
import type { AutofillConfig } from './autofill.js';
import type { MailroomRuleRow } from './mailroom.table.js';
import { CONDITION_FIELDS, CONDITION_OPS, type Condition, regexProblem } from './rule-engine.js';

type Q = Kysely<Database> | Transaction<Database>;

export const CREATE_MODULES = ['Contacts', 'Leads', 'Accounts', 'Potentials', 'HelpDesk'] as const;
export const RULE_ACTIONS = ['create', 'update_ticket', 'link'] as const;
export type RuleAction = (typeof RULE_ACTIONS)[number];

export interface MailroomRule {
  id: number;
  name: string;
  position: number;
  enabled: boolean;
  matchMode: 'all' | 'any';
  conditions: Condition[];
  action: RuleAction;
  /** the module a `create` rule creates records in */
  module: string | null;
  assignedUserId: number;
  autofill: AutofillConfig | null;
  createdAt: number;
  updatedAt: number;
}

export const conditionSchema = z
  .object({
    field: z.enum(CONDITION_FIELDS),
    op: z.enum(CONDITION_OPS),
    value: z.string().max(1000).default(''),
  })
  .superRefine((c, ctx) => {
    if (c.op === 'regex') {
      const problem = regexProblem(c.value);
      if (problem) ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${problem}` });
    }
    if (c.op !== 'has_ticket_number' && c.value === '' && !['equals', 'not_equals'].includes(c.op))
      ctx.addIssue({ code: 'custom', message: 'a condition needs a value' });
  });

export const autofillSchema = z.object({
  delimiter: z.string().min(1).max(10),
  mappings: z
    .array(z.object({ label: z.string().trim().min(1).max(100), field: z.string().min(1).max(100) }))
    .max(100),
});

export const ruleInputSchema = z.object({
  name: z.string().trim().min(1).max(100),
  enabled: z.boolean().default(true),
  matchMode: z.enum(['all', 'any']).default('all'),
  conditions: z.array(conditionSchema).max(20).default([]),
  action: z.enum(RULE_ACTIONS),
  module: z.enum(CREATE_MODULES).nullable().optional(),
  assignedUserId: z.number().int().positive(),
  autofill: autofillSchema.nullable().optional(),
});
export type RuleInput = z.infer<typeof ruleInputSchema>;

export function toRule(row: MailroomRuleRow): MailroomRule {
  return {
    id: row.id,
    name: row.name,
    position: row.position,
    enabled: Boolean(row.enabled),
    matchMode: row.match_mode === 'any' ? 'any' : 'all',
    conditions: JSON.parse(row.conditions) as Condition[],
    action: row.action as RuleAction,
    module: row.module,
    assignedUserId: row.assigned_user_id,
    autofill: row.autofill ? (JSON.parse(row.autofill) as AutofillConfig) : null,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

export async function listRules(db: Q): Promise<MailroomRule[]> {
  const rows = await db.selectFrom('mailroom_rules').selectAll().orderBy('position').orderBy('id').execute();
  return rows.map(toRule);
}

export async function findRule(db: Q, id: number): Promise<MailroomRule | undefined> {
  const row = await db.selectFrom('mailroom_rules').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toRule(row) : undefined;
}

/**
 * A deleted user's rules create records as the user who receives their things (a rule acting as a
 * deleted user would fail every message); the move is audited with the delete.
 */
export const mailroomUserRemoval: UserRemovalHook = {
  feature: 'mailroom',
  async deleted(uow, removal) {
    const moved = await uow.trx
      .updateTable('mailroom_rules')
      .set({ assigned_user_id: removal.receiverId, updated_at: uow.now })
      .where('assigned_user_id', '=', removal.userId)
      .executeTakeFirst();
    if (Number(moved.numUpdatedRows) > 0)
      await uow.audit({
        action: 'mailroom.rules_reassigned',
        target: { type: 'user', id: removal.userId },
        details: { rules: Number(moved.numUpdatedRows), to: removal.receiverId },
      });
    return undefined;
  },
  async purged(uow, removal) {
    await uow.trx
      .updateTable('mailroom_rules')
      .set({ assigned_user_id: removal.receiverId })
      .where('assigned_user_id', '=', removal.userId)
      .execute();
  },
};
