import type { Transaction } from 'kysely';
import { issueKey } from '../access-keys/access-key.service.js';
import { type AuditActor, recordAudit } from '../audit/audit.repository.js';
import { deleteUserSessions } from '../auth/session.repository.js';
import type { AppContext } from '../context.js';
import type { Database } from '../db/schema.js';
import { withUnitOfWork } from '../db/unit-of-work.js';
import { loadSettings } from '../settings/settings.repository.js';
import { queueVerificationMail } from './email-verification.service.js';
import { assertOwnerActionAllowed } from './owner-guard.js';
import { assertPasswordAllowed } from './password.service.js';
import { userError } from './user.errors.js';
import type { DATE_FORMATS, LANGUAGES, User } from './user.model.js';
import {
  countActiveAdmins,
  findUserById,
  findUserByUsername,
  insertUser,
  type NewUserRow,
  updateUserRow,
} from './user.repository.js';

export interface NewUserInput {
  username: string;
  password: string;
  firstName?: string;
  lastName: string;
  email: string;
  isAdmin?: boolean;
  isOwner?: boolean;
  roleId?: number;
  status?: 'Active' | 'Inactive';
  timeZone?: string;
  dateFormat?: string;
  language?: string;
}

/**
 * Every path that creates a user (API, first start, CLI) goes through here, so it is validated and audited
 * once. It queues a verification mail in the same transaction: kick `ctx.mailQueue` after commit.
 */
export async function createUser(
  ctx: AppContext,
  trx: Transaction<Database>,
  input: NewUserInput,
  actor: AuditActor,
  options: { sendVerificationMail?: boolean } = {},
): Promise<User> {
  await assertPasswordAllowed(ctx, trx, input.password, input);
  if (await findUserByUsername(trx, input.username)) {
    throw userError('USERNAME_TAKEN', `The username "${input.username}" is already taken.`);
  }
  const roleId = input.roleId ?? (await defaultRoleId(trx, input.isAdmin ?? false));
  const role = await trx.selectFrom('roles').select('id').where('id', '=', roleId).executeTakeFirst();
  if (!role) throw userError('ROLE_NOT_FOUND', `There is no role ${roleId}.`);
  const now = ctx.clock.now();
  const id = await insertUser(trx, {
    username: input.username,
    username_key: input.username.toLowerCase(),
    password_hash: await ctx.passwords.hash(input.password),
    first_name: input.firstName ?? '',
    last_name: input.lastName,
    email: input.email,
    status: input.status ?? 'Active',
    is_admin: +(input.isAdmin ?? false),
    is_owner: +(input.isOwner ?? false),
    role_id: roleId,
    time_zone: input.timeZone ?? (await loadSettings(trx)).defaultTimeZone,
    date_format: input.dateFormat ?? 'yyyy-mm-dd',
    language: input.language ?? 'en_us',
    created_at: now,
    updated_at: now,
    deleted_at: null,
    email_verified_at: null,
    deleted_transfer_to: null,
  });
  // a user never has a blank key: it exists from creation (API access on, as in Vtiger)
  await issueKey(ctx, trx, id);
  await recordAudit(
    trx,
    actor,
    {
      action: 'user.created',
      target: { type: 'user', id },
      details: { username: input.username, isAdmin: input.isAdmin ?? false, roleId, email: input.email },
    },
    now,
  );
  const user = (await findUserById(trx, id))!;
  // the first admin's placeholder address (admin@localhost) is not worth a mail
  if (options.sendVerificationMail !== false) await queueVerificationMail(ctx, trx, user);
  return user;
}

/** Admins start in the role under the root (CEO); others in the lowest role, as in Vtiger's defaults. */
async function defaultRoleId(trx: Transaction<Database>, isAdmin: boolean): Promise<number> {
  const q = trx.selectFrom('roles').select('id').where('parent_id', 'is not', null);
  const row = await (isAdmin ? q.orderBy('depth', 'asc') : q.orderBy('depth', 'desc'))
    .orderBy('id')
    .executeTakeFirst();
  if (!row) throw userError('ROLE_NOT_FOUND', 'No role exists to put the user in.');
  return row.id;
}

export async function loadVisibleUser(ctx: AppContext, id: number): Promise<User> {
  const user = await findUserById(ctx.db.kysely, id);
  if (!user || user.deletedAt !== null) throw userError('USER_NOT_FOUND', `There is no user ${id}.`);
  return user;
}

/** A change to a user's record (`PATCH /users/{id}`): only the fields given change. */
export interface UserPatch {
  username?: string;
  firstName?: string;
  lastName?: string;
  email?: string;
  isAdmin?: boolean;
  roleId?: number;
  status?: 'Active' | 'Inactive';
  timeZone?: string;
  dateFormat?: (typeof DATE_FORMATS)[number];
  language?: (typeof LANGUAGES)[number];
}

/** What a user may change on their own record without being an admin. */
const SELF_FIELDS = new Set(['firstName', 'lastName', 'timeZone', 'dateFormat', 'language']);

/**
 * Changes a user for `caller` (who may change their own names and preferences; admins change anything,
 * within the rules below). A new email address becomes unverified and gets a verification link;
 * deactivation ends the user's sessions; cached permissions are dropped after commit. Answers the user as
 * stored and what the caller should know (integrations to update, the link sent).
 */
export async function updateUser(
  ctx: AppContext,
  caller: User,
  actor: AuditActor,
  targetId: number,
  patch: UserPatch,
): Promise<{ user: User; warnings: string[] }> {
  const db = ctx.db.kysely;
  const target = await loadVisibleUser(ctx, targetId);
  if (!caller.isAdmin) {
    const forbidden = Object.keys(patch).filter((k) => !SELF_FIELDS.has(k));
    if (forbidden.length)
      throw userError('PERMISSION_DENIED', `You do not have permission to change ${forbidden.join(', ')}.`);
  }
  assertOwnerActionAllowed(caller, target, 'change');
  await assertAdminChangeAllowed(ctx, caller, target, patch);
  const renamed = patch.username !== undefined && patch.username !== target.username;
  const emailChanged = patch.email !== undefined && patch.email !== target.email;
  if (renamed) assertSensitiveChangeAllowed(caller, target, 'username');
  // the address receives password-reset links: changing it is as strong as setting the password
  if (emailChanged) assertSensitiveChangeAllowed(caller, target, 'email address');
  if (patch.username && patch.username.toLowerCase() !== target.username.toLowerCase()) {
    // deleted users keep their name until deleted permanently, as in Vtiger
    if (await findUserByUsername(db, patch.username))
      throw userError('USERNAME_TAKEN', `The username "${patch.username}" is already taken.`);
  }
  if (
    patch.roleId !== undefined &&
    !(await db.selectFrom('roles').select('id').where('id', '=', patch.roleId).executeTakeFirst())
  ) {
    throw userError('ROLE_NOT_FOUND', `There is no role ${patch.roleId}.`);
  }
  await withUnitOfWork(ctx, actor, async (uow) => {
    const { trx } = uow;
    uow.invalidatesAuth();
    await updateUserRow(trx, target.id, {
      ...toRowPatch(patch),
      ...(emailChanged ? { email_verified_at: null } : {}),
      updated_at: uow.now,
    });
    if (emailChanged) {
      await queueVerificationMail(ctx, trx, { ...target, email: patch.email! });
      uow.sendsMail();
    }
    if (renamed) {
      await uow.audit({
        action: 'user.username_changed',
        target: { type: 'user', id: target.id },
        details: { from: target.username, to: patch.username },
      });
    }
    const deactivated = patch.status === 'Inactive' && target.status === 'Active';
    if (deactivated) await deleteUserSessions(trx, target.id);
    await uow.audit({
      action: 'user.updated',
      target: { type: 'user', id: target.id },
      details: { changes: diff(target, patch), sessionsEnded: deactivated },
    });
  });
  const warnings: string[] = [];
  if (renamed)
    warnings.push(
      `Web-service integrations sign in with the username: update every integration that used "${target.username}" to use "${patch.username}".`,
    );
  if (emailChanged)
    warnings.push(
      `A verification link was sent to ${patch.email}; until it is followed the address is unverified.`,
    );
  return { user: (await findUserById(db, target.id))!, warnings };
}

/** Vtiger's rule for usernames: another admin's only by the account owner (who is an admin too). */
function assertSensitiveChangeAllowed(caller: User, target: User, what: string): void {
  if (target.isAdmin && caller.id !== target.id && !caller.isOwner)
    throw userError(
      'PERMISSION_DENIED',
      `Only the account owner can change another administrator's ${what}.`,
    );
}

/** An admin may not lock themselves out, and the last active admin stays an active admin. */
async function assertAdminChangeAllowed(
  ctx: AppContext,
  caller: User,
  target: User,
  patch: UserPatch,
): Promise<void> {
  const losesAdmin =
    target.isAdmin && target.status === 'Active' && (patch.isAdmin === false || patch.status === 'Inactive');
  if (!losesAdmin) return;
  if (target.id === caller.id)
    throw userError(
      'CANNOT_CHANGE_OWN_ACCESS',
      'You cannot remove your own administrator access or deactivate yourself.',
    );
  if ((await countActiveAdmins(ctx.db.kysely)) <= 1)
    throw userError('LAST_ADMIN', 'This is the last active administrator.');
}

function toRowPatch(p: UserPatch): Partial<NewUserRow> {
  const out: Partial<NewUserRow> = {};
  if (p.username !== undefined)
    Object.assign(out, { username: p.username, username_key: p.username.toLowerCase() });
  if (p.firstName !== undefined) out.first_name = p.firstName;
  if (p.lastName !== undefined) out.last_name = p.lastName;
  if (p.email !== undefined) out.email = p.email;
  if (p.isAdmin !== undefined) out.is_admin = +p.isAdmin;
  if (p.roleId !== undefined) out.role_id = p.roleId;
  if (p.status !== undefined) out.status = p.status;
  if (p.timeZone !== undefined) out.time_zone = p.timeZone;
  if (p.dateFormat !== undefined) out.date_format = p.dateFormat;
  if (p.language !== undefined) out.language = p.language;
  return out;
}

function diff(before: User, patch: object): Record<string, { from: unknown; to: unknown }> {
  const out: Record<string, { from: unknown; to: unknown }> = {};
  for (const [k, v] of Object.entries(patch)) {
    const from = (before as unknown as Record<string, unknown>)[k];
    if (from !== v) out[k] = { from, to: v };
  }
  return out;
}
