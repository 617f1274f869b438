import { z } from 'zod';
import type { UserName } from './audit.repository.js';
import type { AuditLogRow } from './audit.table.js';

const personSchema = z.object({
  userId: z.number().int().nullable(),
  username: z.string().nullable(),
  name: z.string().nullable().describe("the user's current full name; null for the system or a purged user"),
});

export const auditEntrySchema = z
  .object({
    id: z.number().int(),
    at: z.string(),
    action: z.string(),
    outcome: z.enum(['success', 'failure']),
    actor: personSchema,
    actingAs: personSchema
      .nullable()
      .describe('set when the actor, an administrator, was logged in as this user at the time'),
    target: z
      .object({
        type: z.string(),
        id: z.string(),
        label: z.string().nullable().describe('a readable name for the target, when Rapport knows one'),
      })
      .nullable(),
    ip: z.string().nullable(),
    userAgent: z.string().nullable(),
    requestId: z.string().nullable(),
    details: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'AuditEntry' });

export type AuditEntryView = z.infer<typeof auditEntrySchema>;

interface Parsed {
  row: AuditLogRow;
  details: Record<string, unknown>;
  actingAs: { id: number | null; username: string | null } | null;
}

function parse(row: AuditLogRow): Parsed {
  const details = JSON.parse(row.details) as Record<string, unknown>;
  const a = details.actingAs as { id?: unknown; username?: unknown } | undefined;
  const actingAs =
    a && typeof a === 'object'
      ? {
          id: typeof a.id === 'number' ? a.id : null,
          username: typeof a.username === 'string' ? a.username : null,
        }
      : null;
  return { row, details, actingAs };
}

/** The user ids an entry mentions (actor, "logged in as", a user target), to look their names up at once. */
export function mentionedUserIds(rows: AuditLogRow[]): number[] {
  const ids: number[] = [];
  for (const p of rows.map(parse)) {
    if (p.row.actor_user_id !== null) ids.push(p.row.actor_user_id);
    if (p.actingAs?.id != null) ids.push(p.actingAs.id);
    if (p.row.target_type === 'user' && /^\d+$/.test(p.row.target_id ?? ''))
      ids.push(Number(p.row.target_id));
  }
  return ids;
}

export function auditView(rows: AuditLogRow[], names: Map<number, UserName>): AuditEntryView[] {
  return rows.map(parse).map(({ row, details, actingAs }) => {
    const targetUser =
      row.target_type === 'user' && row.target_id !== null ? names.get(Number(row.target_id)) : undefined;
    return {
      id: row.id,
      at: new Date(row.at).toISOString(),
      action: row.action,
      outcome: row.outcome,
      actor: {
        userId: row.actor_user_id,
        username: row.actor_username,
        name: row.actor_user_id === null ? null : (names.get(row.actor_user_id)?.name ?? null),
      },
      actingAs: actingAs && {
        userId: actingAs.id,
        username: actingAs.username,
        name: actingAs.id === null ? null : (names.get(actingAs.id)?.name ?? null),
      },
      target:
        row.target_type && row.target_id
          ? {
              type: row.target_type,
              id: row.target_id,
              label: targetUser
                ? `${targetUser.name} (${targetUser.username})`
                : row.target_type === 'user'
                  ? removedUserLabel(details)
                  : typeof details.name === 'string'
                    ? details.name
                    : null,
            }
          : null,
      ip: row.ip,
      userAgent: row.user_agent,
      requestId: row.request_id,
      details,
    };
  });
}

/** A user deleted for good has no row left: the entry's own details still name them. */
function removedUserLabel(details: Record<string, unknown>): string | null {
  const name = details.username ?? details.targetUsername;
  return typeof name === 'string' ? name : null;
}
