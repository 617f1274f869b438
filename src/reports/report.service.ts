import type { AuditActor } from '../audit/audit.repository.js';
import type { AppContext } from '../context.js';
import { withUnitOfWork } from '../db/unit-of-work.js';
import type { Principal } from '../roles/permissions.js';
import type { UserRemovalHook } from '../users/user-removal.js';
import { reportError } from './report.errors.js';
import type { ReportRow } from './report.table.js';
import { compileReport } from './report-compiler.js';
import { type ReportDefinition, reportDefinitionSchema } from './report-definition.js';

export type ReportVisibility = 'private' | 'shared' | 'public';

export interface SavedReport {
  id: number;
  ownerId: number;
  name: string;
  description: string;
  primaryModule: string;
  definition: ReportDefinition;
  visibility: ReportVisibility;
  sharedUserIds: number[];
  sharedRoleIds: number[];
  createdAt: number;
  updatedAt: number;
  /** the caller may change or delete it (its owner, or an admin) */
  editable: boolean;
}

export interface ReportInput {
  name: string;
  description?: string;
  definition: ReportDefinition;
  visibility?: ReportVisibility;
  sharedUserIds?: number[];
  sharedRoleIds?: number[];
}

function toSaved(p: Principal, row: ReportRow): SavedReport {
  // a stored definition is re-read through the schema: defaults added since it was saved apply
  const parsed = reportDefinitionSchema.safeParse(JSON.parse(row.definition));
  return {
    id: row.id,
    ownerId: row.owner_id,
    name: row.name,
    description: row.description,
    primaryModule: row.primary_module,
    definition: parsed.success ? parsed.data : (JSON.parse(row.definition) as ReportDefinition),
    visibility: row.visibility,
    sharedUserIds: JSON.parse(row.shared_user_ids) as number[],
    sharedRoleIds: JSON.parse(row.shared_role_ids) as number[],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    editable: p.isAdmin || row.owner_id === p.userId,
  };
}

/** Whether the caller may open (run) a saved report: its owner, admins, public, or shared with them. */
function canSee(p: Principal, row: ReportRow): boolean {
  if (p.isAdmin || row.owner_id === p.userId || row.visibility === 'public') return true;
  if (row.visibility !== 'shared') return false;
  const users = JSON.parse(row.shared_user_ids) as number[];
  const roles = JSON.parse(row.shared_role_ids) as number[];
  return users.includes(p.userId) || roles.includes(p.roleId);
}

export async function listReports(ctx: AppContext, p: Principal): Promise<SavedReport[]> {
  const rows = await ctx.db.kysely.selectFrom('reports').selectAll().orderBy('name').orderBy('id').execute();
  return rows.filter((r) => canSee(p, r)).map((r) => toSaved(p, r));
}

export async function getReport(ctx: AppContext, p: Principal, id: number): Promise<SavedReport> {
  const row = await ctx.db.kysely.selectFrom('reports').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row || !canSee(p, row)) throw reportError('REPORT_NOT_FOUND', `There is no report ${id}.`);
  return toSaved(p, row);
}

async function checkInput(ctx: AppContext, p: Principal, input: ReportInput): Promise<void> {
  const name = input.name.trim();
  if (!name)
    throw reportError('REPORT_INVALID', 'name: give the report a name.', { details: { path: 'name' } });
  // the owner must be able to run what they save: unknown fields, undeclared relations… are refused now
  await compileReport(ctx, p, input.definition);
  if (input.sharedUserIds?.length) {
    const found = await ctx.db.kysely
      .selectFrom('users')
      .select('id')
      .where('id', 'in', input.sharedUserIds)
      .where('deleted_at', 'is', null)
      .execute();
    const missing = input.sharedUserIds.filter((id) => !found.some((f) => f.id === id));
    if (missing.length)
      throw reportError('REPORT_INVALID', `sharedUserIds: there is no user ${missing[0]}.`, {
        details: { path: 'sharedUserIds' },
      });
  }
  if (input.sharedRoleIds?.length) {
    const found = await ctx.db.kysely
      .selectFrom('roles')
      .select('id')
      .where('id', 'in', input.sharedRoleIds)
      .execute();
    const missing = input.sharedRoleIds.filter((id) => !found.some((f) => f.id === id));
    if (missing.length)
      throw reportError('REPORT_INVALID', `sharedRoleIds: there is no role ${missing[0]}.`, {
        details: { path: 'sharedRoleIds' },
      });
  }
}

export async function createReport(
  ctx: AppContext,
  p: Principal,
  actor: AuditActor,
  input: ReportInput,
): Promise<SavedReport> {
  await checkInput(ctx, p, input);
  const id = await withUnitOfWork(ctx, actor, async (uow) => {
    const row = await uow.trx
      .insertInto('reports')
      .values({
        owner_id: p.userId,
        name: input.name.trim(),
        description: input.description ?? '',
        primary_module: input.definition.primary,
        definition: JSON.stringify(input.definition),
        visibility: input.visibility ?? 'private',
        shared_user_ids: JSON.stringify(input.sharedUserIds ?? []),
        shared_role_ids: JSON.stringify(input.sharedRoleIds ?? []),
        created_at: uow.now,
        updated_at: uow.now,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await uow.audit({
      action: 'report.created',
      target: { type: 'report', id: row.id },
      details: {
        name: input.name.trim(),
        primary: input.definition.primary,
        visibility: input.visibility ?? 'private',
      },
    });
    return row.id;
  });
  return getReport(ctx, p, id);
}

async function editableRow(ctx: AppContext, p: Principal, id: number): Promise<ReportRow> {
  const row = await ctx.db.kysely.selectFrom('reports').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row || !canSee(p, row)) throw reportError('REPORT_NOT_FOUND', `There is no report ${id}.`);
  if (!p.isAdmin && row.owner_id !== p.userId)
    throw reportError('REPORT_PERMISSION_DENIED', 'Only the owner of a report (or an admin) may change it.');
  return row;
}

export async function updateReport(
  ctx: AppContext,
  p: Principal,
  actor: AuditActor,
  id: number,
  input: Partial<ReportInput>,
): Promise<SavedReport> {
  const row = await editableRow(ctx, p, id);
  const current = toSaved(p, row);
  const next: ReportInput = {
    name: input.name ?? current.name,
    description: input.description ?? current.description,
    definition: input.definition ?? current.definition,
    visibility: input.visibility ?? current.visibility,
    sharedUserIds: input.sharedUserIds ?? current.sharedUserIds,
    sharedRoleIds: input.sharedRoleIds ?? current.sharedRoleIds,
  };
  await checkInput(ctx, p, next);
  await withUnitOfWork(ctx, actor, async (uow) => {
    await uow.trx
      .updateTable('reports')
      .set({
        name: next.name.trim(),
        description: next.description ?? '',
        primary_module: next.definition.primary,
        definition: JSON.stringify(next.definition),
        visibility: next.visibility ?? 'private',
        shared_user_ids: JSON.stringify(next.sharedUserIds ?? []),
        shared_role_ids: JSON.stringify(next.sharedRoleIds ?? []),
        updated_at: uow.now,
      })
      .where('id', '=', id)
      .execute();
    await uow.audit({
      action: 'report.updated',
      target: { type: 'report', id },
      details: { changed: Object.keys(input).sort() },
    });
  });
  return getReport(ctx, p, id);
}

export async function deleteReport(
  ctx: AppContext,
  p: Principal,
  actor: AuditActor,
  id: number,
): Promise<void> {
  const row = await editableRow(ctx, p, id);
  await withUnitOfWork(ctx, actor, async (uow) => {
    await uow.trx.deleteFrom('reports').where('id', '=', id).execute();
    await uow.audit({
      action: 'report.deleted',
      target: { type: 'report', id },
      details: { name: row.name },
    });
  });
}

/** A deleted user's reports go to the receiver (their schedules keep running as the new owner). */
export const reportUserRemoval: UserRemovalHook = {
  feature: 'reports',
  async deleted(uow, removal) {
    await uow.trx
      .updateTable('reports')
      .set({ owner_id: removal.receiverId })
      .where('owner_id', '=', removal.userId)
      .execute();
    return undefined;
  },
  async purged({ trx }, removal) {
    await trx
      .updateTable('reports')
      .set({ owner_id: removal.receiverId })
      .where('owner_id', '=', removal.userId)
      .execute();
  },
};
