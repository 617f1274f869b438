import type { FastifyRequest } from 'fastify';
import type { Kysely, Transaction } from 'kysely';
import { preparedInsert } from '../db/prepared.js';
import type { Database } from '../db/schema.js';
import type { AuditLogRow } from './audit.table.js';

type Q = Kysely<Database> | Transaction<Database>;

/** Who did it and from where; built from the request, or from the CLI for offline actions. */
export interface AuditActor {
  userId: number | null;
  username: string | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  /** the administrator behind the request while "logged in as" the user */
  impersonatorName?: string | null;
  impersonatorId?: number | null;
}

export interface AuditEntry {
  action: string;
  outcome?: 'success' | 'failure';
  target?: { type: string; id: string | number };
  /** Plain facts about the change; callers never put a password, key or token here. */
  details?: Record<string, unknown>;
}

export function actorFromRequest(req: FastifyRequest): AuditActor {
  return {
    userId: req.auth?.user.id ?? null,
    username: req.auth?.user.username ?? null,
    ip: req.ip,
    userAgent: String(req.headers['user-agent'] ?? '').slice(0, 512),
    requestId: req.id,
    impersonatorName: req.auth?.impersonator?.username ?? null,
    impersonatorId: req.auth?.impersonator?.id ?? null,
  };
}

export const CLI_ACTOR: AuditActor = {
  userId: null,
  username: 'cli',
  ip: null,
  userAgent: 'rapport-cli',
  requestId: null,
};

const insertAuditRows = preparedInsert('audit_log', [
  'at',
  'action',
  'outcome',
  'actor_user_id',
  'actor_username',
  'target_type',
  'target_id',
  'ip',
  'user_agent',
  'request_id',
  'details',
]);

/**
 * Append one entry; call it with the transaction that makes the change so both commit or neither.
 * While an admin is logged in as a user, the admin is the actor (the person accountable) and
 * `details.actingAs` names the user, as in the per-request `impersonation.request` entries.
 */
export async function recordAudit(db: Q, actor: AuditActor, entry: AuditEntry, at: number): Promise<void> {
  const imp = actor.impersonatorId ?? null;
  if (imp !== null && actor.impersonatorName && imp !== actor.userId) {
    entry = {
      ...entry,
      details: { ...entry.details, actingAs: { id: actor.userId, username: actor.username } },
    };
    actor = { ...actor, userId: imp, username: actor.impersonatorName };
  }
  await insertAuditRows(db, [
    {
      at,
      action: entry.action,
      outcome: entry.outcome ?? 'success',
      actor_user_id: actor.userId,
      actor_username: actor.username,
      target_type: entry.target?.type ?? null,
      target_id: entry.target ? String(entry.target.id) : null,
      ip: actor.ip,
      user_agent: actor.userAgent,
      request_id: actor.requestId,
      details: JSON.stringify(entry.details ?? {}),
    },
  ]);
}

export interface AuditQuery {
  action?: string;
  actorUserId?: number;
  targetType?: string;
  targetId?: string;
  outcome?: 'success' | 'failure';
  from?: number;
  to?: number;
  before?: number;
  limit: number;
}

export async function listAudit(db: Q, q: AuditQuery): Promise<AuditLogRow[]> {
  let query = db.selectFrom('audit_log').selectAll();
  if (q.action?.endsWith('.*')) {
    // a prefix as a range ('.' + 1 = '/'), so it uses the index and needs no LIKE escaping
    const prefix = q.action.slice(0, -1);
    query = query.where('action', '>=', prefix).where('action', '<', `${prefix.slice(0, -1)}/`);
  } else if (q.action) {
    query = query.where('action', '=', q.action);
  }
  if (q.actorUserId !== undefined) query = query.where('actor_user_id', '=', q.actorUserId);
  if (q.targetType) query = query.where('target_type', '=', q.targetType);
  if (q.targetId) query = query.where('target_id', '=', q.targetId);
  if (q.outcome) query = query.where('outcome', '=', q.outcome);
  if (q.from !== undefined) query = query.where('at', '>=', q.from);
  if (q.to !== undefined) query = query.where('at', '<', q.to);
  if (q.before !== undefined) query = query.where('id', '<', q.before);
  return query.orderBy('id', 'desc').limit(q.limit).execute();
}

export interface UserName {
  id: number;
  username: string;
  name: string;
}

/** Display names of the users an audit page mentions (deleted users too; purged ones are simply absent). */
export async function userNames(db: Q, ids: Iterable<number>): Promise<Map<number, UserName>> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return new Map();
  const rows = await db
    .selectFrom('users')
    .select(['id', 'username', 'first_name', 'last_name'])
    .where('id', 'in', unique)
    .execute();
  return new Map(
    rows.map((r) => [
      r.id,
      { id: r.id, username: r.username, name: `${r.first_name} ${r.last_name}`.trim() || r.username },
    ]),
  );
}
