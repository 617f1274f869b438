import { stringify } from 'csv-stringify/sync';
import type { AuditActor } from '../audit/audit.repository.js';
import type { AppContext } from '../context.js';
import { withUnitOfWork } from '../db/unit-of-work.js';
import { enqueueMail } from '../mail/mail-queue.repository.js';
import type { FieldValue } from '../records/field-coerce.js';
import type { Principal } from '../roles/permissions.js';
import { principalFor } from '../roles/principal.js';
import type { User } from '../users/user.model.js';
import { findUserById } from '../users/user.repository.js';
import { reportError } from './report.errors.js';
import { getReport } from './report.service.js';
import type { ReportScheduleRow } from './report.table.js';
import { csvCell } from './report-csv.js';
import { reportDefinitionSchema } from './report-definition.js';
import { openReportRows } from './report-runner.js';

/** A scheduled mail carries at most this many rows (Zoho caps scheduled reports at 2,000 records). */
export const SCHEDULED_ROW_LIMIT = 2000;
const CHECK_EVERY_MS = 60_000;
const DAY = 86_400_000;
const SCHEDULER: AuditActor = {
  userId: null,
  username: 'report scheduler',
  ip: null,
  userAgent: null,
  requestId: null,
};

export type Frequency = 'daily' | 'weekly' | 'monthly' | 'once';

export interface ScheduleInput {
  frequency: Frequency;
  /** weekly: 0 = Sunday … 6 = Saturday */
  weekdays?: number[];
  /** monthly: 1–31 (the last day in shorter months) */
  dayOfMonth?: number;
  /** once: YYYY-MM-DD */
  onDate?: string;
  /** HH:MM, UTC */
  timeUtc?: string;
  recipientUserIds?: number[];
  recipientRoleIds?: number[];
  recipientEmails?: string[];
  enabled?: boolean;
}

export interface Schedule extends Required<Omit<ScheduleInput, 'dayOfMonth' | 'onDate'>> {
  id: number;
  reportId: number;
  dayOfMonth: number | null;
  onDate: string | null;
  nextRunAt: number | null;
  lastRunAt: number | null;
}

const invalid = (path: string, message: string) =>
  reportError('REPORT_INVALID', `${path}: ${message}`, { details: { path } });

/** The first time strictly after `after` that the schedule is due, or null (a past one-off). */
export interface Timing {
  frequency: Frequency;
  weekdays?: number[];
  dayOfMonth?: number | null;
  onDate?: string | null;
  timeUtc?: string;
}

export function nextRunAfter(s: Timing, after: number): number | null {
  const [hh, mm] = (s.timeUtc ?? '08:00').split(':').map(Number) as [number, number];
  const at = (dayStart: number) => dayStart + hh * 3_600_000 + mm * 60_000;
  if (s.frequency === 'once') {
    const t = at(Date.parse(`${s.onDate}T00:00:00Z`));
    return t > after ? t : null;
  }
  const d = new Date(after);
  let day = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  for (let i = 0; i < 400; i++, day += DAY) {
    const t = at(day);
    if (t <= after) continue;
    const date = new Date(day);
    if (s.frequency === 'daily') return t;
    if (s.frequency === 'weekly' && (s.weekdays ?? []).includes(date.getUTCDay())) return t;
    if (s.frequency === 'monthly') {
      const last = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0)).getUTCDate();
      if (date.getUTCDate() === Math.min(s.dayOfMonth ?? 1, last)) return t;
    }
  }
  return null;
}

function checkSchedule(s: ScheduleInput): void {
  if (s.timeUtc !== undefined && !/^([01]\d|2[0-3]):[0-5]\d$/.test(s.timeUtc))
    throw invalid('timeUtc', 'write the time as HH:MM (UTC).');
  if (s.frequency === 'weekly' && !s.weekdays?.length) throw invalid('weekdays', 'pick at least one day.');
  if (s.frequency === 'monthly' && !s.dayOfMonth) throw invalid('dayOfMonth', 'pick a day of the month.');
  if (
    s.frequency === 'once' &&
    !(s.onDate && /^\d{4}-\d{2}-\d{2}$/.test(s.onDate) && !Number.isNaN(Date.parse(s.onDate)))
  )
    throw invalid('onDate', 'give the date as YYYY-MM-DD.');
  if (!s.recipientUserIds?.length && !s.recipientRoleIds?.length && !s.recipientEmails?.length)
    throw invalid('recipients', 'name at least one user, role or address.');
}

function toSchedule(r: ReportScheduleRow): Schedule {
  return {
    id: r.id,
    reportId: r.report_id,
    frequency: r.frequency,
    weekdays: JSON.parse(r.weekdays) as number[],
    dayOfMonth: r.day_of_month,
    onDate: r.on_date,
    timeUtc: r.time_utc,
    recipientUserIds: JSON.parse(r.recipient_user_ids) as number[],
    recipientRoleIds: JSON.parse(r.recipient_role_ids) as number[],
    recipientEmails: JSON.parse(r.recipient_emails) as string[],
    enabled: Boolean(r.enabled),
    nextRunAt: r.next_run_at,
    lastRunAt: r.last_run_at,
  };
}

async function editableReport(ctx: AppContext, p: Principal, reportId: number) {
  const report = await getReport(ctx, p, reportId);
  if (!report.editable)
    throw reportError(
      'REPORT_PERMISSION_DENIED',
      'Only the owner of a report (or an admin) may schedule it.',
    );
  return report;
}

export async function listSchedules(ctx: AppContext, p: Principal, reportId: number): Promise<Schedule[]> {
  await getReport(ctx, p, reportId);
  const rows = await ctx.db.kysely
    .selectFrom('report_schedules')
    .selectAll()
    .where('report_id', '=', reportId)
    .orderBy('id')
    .execute();
  return rows.map(toSchedule);
}

export async function createSchedule(
  ctx: AppContext,
  p: Principal,
  actor: AuditActor,
  reportId: number,
  input: ScheduleInput,
): Promise<Schedule> {
  await editableReport(ctx, p, reportId);
  checkSchedule(input);
  const id = await withUnitOfWork(ctx, actor, async (uow) => {
    const row = await uow.trx
      .insertInto('report_schedules')
      .values({
        report_id: reportId,
        frequency: input.frequency,
        weekdays: JSON.stringify(input.weekdays ?? []),
        day_of_month: input.dayOfMonth ?? null,
        on_date: input.onDate ?? null,
        time_utc: input.timeUtc ?? '08:00',
        recipient_user_ids: JSON.stringify(input.recipientUserIds ?? []),
        recipient_role_ids: JSON.stringify(input.recipientRoleIds ?? []),
        recipient_emails: JSON.stringify(input.recipientEmails ?? []),
        enabled: input.enabled === false ? 0 : 1,
        next_run_at: input.enabled === false ? null : nextRunAfter(input, uow.now),
        last_run_at: null,
        created_at: uow.now,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await uow.audit({
      action: 'report.schedule_created',
      target: { type: 'report', id: reportId },
      details: {
        schedule: row.id,
        frequency: input.frequency,
        users: input.recipientUserIds?.length ?? 0,
        roles: input.recipientRoleIds?.length ?? 0,
        addresses: input.recipientEmails?.length ?? 0,
      },
    });
    return row.id;
  });
  return (await listSchedules(ctx, p, reportId)).find((s) => s.id === id)!;
}

export async function deleteSchedule(
  ctx: AppContext,
  p: Principal,
  actor: AuditActor,
  reportId: number,
  scheduleId: number,
): Promise<void> {
  await editableReport(ctx, p, reportId);
  await withUnitOfWork(ctx, actor, async (uow) => {
    const res = await uow.trx
      .deleteFrom('report_schedules')
      .where('id', '=', scheduleId)
      .where('report_id', '=', reportId)
      .executeTakeFirst();
    if (Number(res.numDeletedRows) === 0)
      throw reportError('REPORT_NOT_FOUND', `Report ${reportId} has no schedule ${scheduleId}.`);
    await uow.audit({
      action: 'report.schedule_deleted',
      target: { type: 'report', id: reportId },
      details: { schedule: scheduleId },
    });
  });
}

/** Up to SCHEDULED_ROW_LIMIT rows of the report as `viewer` sees them, as CSV; null when there are none. */
async function csvFor(
  ctx: AppContext,
  viewer: User,
  definition: unknown,
): Promise<{ csv: string; rows: number; capped: boolean } | null> {
  const p = await principalFor(ctx, viewer);
  const def = reportDefinitionSchema.parse(definition);
  const { columns, chunks } = await openReportRows(ctx, p, def);
  const rows: FieldValue[][] = [];
  let capped = false;
  for await (const chunk of chunks()) {
    rows.push(...chunk);
    if (rows.length >= SCHEDULED_ROW_LIMIT) {
      capped = rows.length > SCHEDULED_ROW_LIMIT;
      rows.length = Math.min(rows.length, SCHEDULED_ROW_LIMIT);
      break;
    }
  }
  if (rows.length === 0) return null;
  const csv = stringify([columns.map((c) => c.label), ...rows.map((r) => r.map(csvCell))]);
  return { csv, rows: rows.length, capped };
}

/** Active users who receive a schedule's mail: named users and the members of named roles. */
async function recipientUsers(ctx: AppContext, s: Schedule): Promise<User[]> {
  const ids = new Set(s.recipientUserIds);
  if (s.recipientRoleIds.length) {
    const members = await ctx.db.kysely
      .selectFrom('users')
      .select('id')
      .where('role_id', 'in', s.recipientRoleIds)
      .execute();
    for (const m of members) ids.add(m.id);
  }
  const users: User[] = [];
  for (const id of ids) {
    const u = await findUserById(ctx.db.kysely, id);
    if (u && u.status === 'Active' && u.deletedAt === null) users.push(u);
  }
  return users;
}

/**
 * Sends every due schedule once. A replica takes a schedule's period by moving `next_run_at` from the value
 * it read to the next period (compare-and-set); a replica that loses the race sends nothing. Each user
 * recipient gets the report as they would see it, external addresses as the owner sees it; empty results are
 * not sent. Answers how many mails were queued.
 */
export async function runDueSchedules(ctx: AppContext): Promise<number> {
  const now = ctx.clock.now();
  const due = await ctx.db.kysely
    .selectFrom('report_schedules')
    .selectAll()
    .where('enabled', '=', 1)
    .where('next_run_at', '<=', now)
    .orderBy('id')
    .limit(50)
    .execute();
  let queued = 0;
  for (const row of due) {
    const s = toSchedule(row);
    const next = nextRunAfter(s, now);
    const claim = await ctx.db.kysely
      .updateTable('report_schedules')
      .set({ next_run_at: next, last_run_at: now, ...(next === null ? { enabled: 0 } : {}) })
      .where('id', '=', row.id)
      .where('next_run_at', '=', row.next_run_at)
      .executeTakeFirst();
    if (Number(claim.numUpdatedRows) !== 1) continue;
    try {
      queued += await sendSchedule(ctx, s, now);
    } catch (err) {
      ctx.logger.warn({ err, schedule: s.id, report: s.reportId }, 'a scheduled report could not be sent');
    }
  }
  return queued;
}

async function sendSchedule(ctx: AppContext, s: Schedule, now: number): Promise<number> {
  const report = await ctx.db.kysely
    .selectFrom('reports')
    .selectAll()
    .where('id', '=', s.reportId)
    .executeTakeFirst();
  if (!report) return 0;
  const owner = await findUserById(ctx.db.kysely, report.owner_id);
  if (owner?.status !== 'Active' || owner.deletedAt !== null) return 0;
  const definition = JSON.parse(report.definition) as unknown;
  const mails: Array<{ to: string; csv: string; rows: number; capped: boolean }> = [];
  for (const u of await recipientUsers(ctx, s)) {
    const out = await csvFor(ctx, u, definition).catch(() => null);
    if (out) mails.push({ to: u.email, ...out });
  }
  if (s.recipientEmails.length) {
    const out = await csvFor(ctx, owner, definition);
    if (out) for (const to of s.recipientEmails) mails.push({ to, ...out });
  }
  if (mails.length === 0) return 0;
  await withUnitOfWork(ctx, SCHEDULER, async (uow) => {
    for (const m of mails)
      await enqueueMail(
        uow.trx,
        {
          to: m.to,
          subject: `Report: ${report.name}`,
          text:
            `The scheduled report "${report.name}" (${m.rows} rows${m.capped ? `, the first ${SCHEDULED_ROW_LIMIT}` : ''}) as CSV:\n\n` +
            m.csv,
        },
        ctx.config.mail.from,
        now,
      );
    await uow.audit({
      action: 'report.schedule_sent',
      target: { type: 'report', id: s.reportId },
      details: { schedule: s.id, mails: mails.length },
    });
    uow.sendsMail();
  });
  return mails.length;
}

/** Checks for due schedules every minute; answers a function that stops it. */
export function startReportSchedules(ctx: AppContext): () => void {
  const tick = () =>
    runDueSchedules(ctx).then(
      (n) => n > 0 && ctx.logger.info({ mails: n }, 'scheduled reports queued'),
      (err: unknown) => ctx.logger.warn({ err }, 'running scheduled reports failed; will retry'),
    );
  const timer = setInterval(() => void tick(), CHECK_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}
