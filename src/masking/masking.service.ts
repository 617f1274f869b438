import type { AuditActor } from '../audit/audit.repository.js';
import type { AppContext } from '../context.js';
import { withUnitOfWork } from '../db/unit-of-work.js';
import { errorTable } from '../http/errors.js';
import type { FieldDef } from '../records/field.types.js';
import type { FieldValue } from '../records/field-coerce.js';
import { isModuleName, type ModuleMeta, moduleMetaFor } from '../records/module-meta.js';
import { recordError } from '../records/record.errors.js';
import type { RecordWriter } from '../records/record-change.model.js';
import { findVisible, viewModule } from '../records/record-read.service.js';
import {
  defaultPattern,
  MASKABLE_TYPES,
  MAX_KEEP,
  type MaskPattern,
  maskKind,
  maskValue,
} from './mask-format.js';
import {
  deleteRule,
  findRule,
  insertRule,
  listRules,
  type MaskingRule,
  type MaskLevel,
  setUnmaskProfiles,
  unmaskProfileIds,
  updateRule,
} from './masking.repository.js';
import { mayUnmask } from './masking-cache.js';

export const maskingError = errorTable({
  MASKING_RULE_NOT_FOUND: 404,
  MASKING_RULE_EXISTS: 409,
  FIELD_NOT_MASKABLE: 400,
  MASKING_ROLES_INVALID: 400,
  MASKING_PROFILES_INVALID: 400,
  UNMASK_DENIED: 403,
});

/** Why a field cannot be masked, or null when it can. Shown by the settings page next to the field. */
export function notMaskableReason(meta: ModuleMeta, f: FieldDef): string | null {
  if (!maskKind(f.type))
    return `${f.label} is a ${f.type} field: only phone, email and text fields can be masked.`;
  if (meta.numberField?.name === f.name) return `${f.label} is the record number, which identifies records.`;
  if (f.storage !== 'module') return `${f.label} is a system field.`;
  return null;
}

export interface RuleInput {
  module: string;
  field: string;
  level: MaskLevel;
  roleIds?: number[];
  includeSubordinates?: boolean;
  keepFirst?: number;
  keepLast?: number;
}

async function checkedRule(ctx: AppContext, input: RuleInput) {
  if (!isModuleName(input.module))
    throw recordError('MODULE_NOT_FOUND', `There is no module "${input.module}".`);
  const meta = await moduleMetaFor(ctx, input.module);
  const f = meta.fieldMap.get(input.field);
  if (!f)
    throw recordError('FIELD_UNKNOWN', `${meta.singular} has no field "${input.field}".`, {
      details: { field: input.field },
    });
  const why = notMaskableReason(meta, f);
  if (why) throw maskingError('FIELD_NOT_MASKABLE', why, { details: { field: f.name } });
  const roleIds = input.level === 'role' ? [...new Set(input.roleIds ?? [])] : [];
  if (input.level === 'role') {
    if (roleIds.length === 0)
      throw maskingError('MASKING_ROLES_INVALID', 'A role-level rule needs at least one role.');
    const found = await ctx.db.kysely.selectFrom('roles').select('id').where('id', 'in', roleIds).execute();
    if (found.length !== roleIds.length)
      throw maskingError('MASKING_ROLES_INVALID', 'Some of the roles given do not exist.', {
        details: { missing: roleIds.filter((id) => !found.some((r) => r.id === id)) },
      });
  }
  const kind = maskKind(f.type)!;
  const base = defaultPattern(kind);
  const pattern: MaskPattern = {
    keepFirst: clampKeep(kind === 'phone' ? 0 : (input.keepFirst ?? base.keepFirst)),
    keepLast: clampKeep(kind === 'email' ? 0 : (input.keepLast ?? base.keepLast)),
  };
  return {
    meta,
    values: {
      module: meta.name,
      field: f.name,
      level: input.level,
      roleIds,
      includeSubordinates: input.level === 'role' && (input.includeSubordinates ?? false),
      pattern,
    },
  };
}

const clampKeep = (n: number) => Math.max(0, Math.min(MAX_KEEP, Math.trunc(n)));

const ruleAudit = (
  r: { module: string; field: string; level: string; roleIds: number[] } & Partial<MaskingRule>,
) => ({
  module: r.module,
  field: r.field,
  level: r.level,
  roleIds: r.roleIds,
  ...(r.includeSubordinates !== undefined ? { includeSubordinates: r.includeSubordinates } : {}),
  ...(r.pattern ? { keepFirst: r.pattern.keepFirst, keepLast: r.pattern.keepLast } : {}),
});

export async function createRule(ctx: AppContext, actor: AuditActor, input: RuleInput): Promise<MaskingRule> {
  const { values } = await checkedRule(ctx, input);
  const existing = (await listRules(ctx.db.kysely)).find(
    (r) => r.module === values.module && r.field === values.field,
  );
  if (existing)
    throw maskingError(
      'MASKING_RULE_EXISTS',
      `${values.module}.${values.field} already has a masking rule; edit it.`,
      {
        details: { field: values.field, ruleId: existing.id },
      },
    );
  const id = await withUnitOfWork(ctx, actor, async (uow) => {
    uow.invalidatesAuth();
    const id = await insertRule(uow.trx, values, uow.now);
    await uow.audit({
      action: 'masking.rule_created',
      target: { type: 'masking_rule', id },
      details: ruleAudit({ ...values }),
    });
    return id;
  });
  return (await findRule(ctx.db.kysely, id))!;
}

export async function changeRule(
  ctx: AppContext,
  actor: AuditActor,
  id: number,
  patch: Omit<RuleInput, 'module' | 'field'>,
): Promise<MaskingRule> {
  const rule = await findRule(ctx.db.kysely, id);
  if (!rule) throw maskingError('MASKING_RULE_NOT_FOUND', `There is no masking rule ${id}.`);
  const { values } = await checkedRule(ctx, {
    module: rule.module,
    field: rule.field,
    level: patch.level,
    roleIds: patch.roleIds ?? rule.roleIds,
    includeSubordinates: patch.includeSubordinates ?? rule.includeSubordinates,
    keepFirst: patch.keepFirst ?? rule.pattern.keepFirst,
    keepLast: patch.keepLast ?? rule.pattern.keepLast,
  });
  await withUnitOfWork(ctx, actor, async (uow) => {
    uow.invalidatesAuth();
    await updateRule(uow.trx, id, values, uow.now);
    await uow.audit({
      action: 'masking.rule_changed',
      target: { type: 'masking_rule', id },
      details: { before: ruleAudit(rule), after: ruleAudit({ ...values }) },
    });
  });
  return (await findRule(ctx.db.kysely, id))!;
}

export async function removeRule(ctx: AppContext, actor: AuditActor, id: number): Promise<void> {
  const rule = await findRule(ctx.db.kysely, id);
  if (!rule) throw maskingError('MASKING_RULE_NOT_FOUND', `There is no masking rule ${id}.`);
  await withUnitOfWork(ctx, actor, async (uow) => {
    uow.invalidatesAuth();
    await deleteRule(uow.trx, id);
    await uow.audit({
      action: 'masking.rule_deleted',
      target: { type: 'masking_rule', id },
      details: ruleAudit(rule),
    });
  });
}

export async function setUnmask(ctx: AppContext, actor: AuditActor, profileIds: number[]): Promise<number[]> {
  const ids = [...new Set(profileIds)];
  if (ids.length) {
    const found = await ctx.db.kysely.selectFrom('profiles').select('id').where('id', 'in', ids).execute();
    if (found.length !== ids.length)
      throw maskingError('MASKING_PROFILES_INVALID', 'Some of the profiles given do not exist.');
  }
  const before = await unmaskProfileIds(ctx.db.kysely);
  await withUnitOfWork(ctx, actor, async (uow) => {
    uow.invalidatesAuth();
    await setUnmaskProfiles(uow.trx, ids);
    await uow.audit({
      action: 'masking.unmask_changed',
      target: { type: 'permission', id: 'unmask' },
      details: { before, after: [...ids].sort((a, b) => a - b) },
    });
  });
  return unmaskProfileIds(ctx.db.kysely);
}

/** The masked form of a sample value under a pattern: the settings page's live preview. */
export function previewMask(
  type: 'phone' | 'email' | 'text',
  pattern: Partial<MaskPattern>,
  value: string,
): string {
  const base = defaultPattern(type);
  const p = {
    keepFirst: clampKeep(type === 'phone' ? 0 : (pattern.keepFirst ?? base.keepFirst)),
    keepLast: clampKeep(type === 'email' ? 0 : (pattern.keepLast ?? base.keepLast)),
  };
  return value === '' ? '' : maskValue(type, p, value);
}

/**
 * Reveal one masked value of one record to a user whose profile grants Unmask. Every reveal, and every
 * refused attempt, is audited (who, which record and field, when, through which channel).
 */
export async function revealField(
  ctx: AppContext,
  w: RecordWriter,
  module: string,
  id: number,
  field: string,
): Promise<{ field: string; value: FieldValue; masked: boolean }> {
  const view = await viewModule(ctx, w.principal, await moduleMetaFor(ctx, module));
  const { meta } = view;
  if (!meta.fieldMap.has(field))
    throw recordError('FIELD_UNKNOWN', `${meta.singular} has no field "${field}".`, { details: { field } });
  const rec = await findVisible(ctx, w.principal, meta, id);
  const value = (rec.fields[field] ?? null) as FieldValue;
  if (!view.masked.has(field)) return { field, value, masked: false };
  const allowed = await mayUnmask(ctx, w.principal);
  await withUnitOfWork(ctx, w.actor, (uow) =>
    uow.audit({
      action: 'record.field_revealed',
      outcome: allowed ? 'success' : 'failure',
      target: { type: 'record', id },
      details: { module: meta.name, field, channel: w.channel },
    }),
  );
  if (!allowed)
    throw maskingError(
      'UNMASK_DENIED',
      `${field} is masked for you and your profile does not grant Unmask.`,
      {
        details: { field },
      },
    );
  return { field, value, masked: true };
}

export { MASKABLE_TYPES };
