import type { Transaction } from 'kysely';
import { issueKey } from '../access-keys/access-key.service.js';
import { type AuditActor, recordAudit } from '../audit/audit.repository.js';
import { passwordProblem } from '../auth/password-policy.js';
import type { AppContext } from '../context.js';
import type { Database } from '../db/schema.js';
import { userError } from './user.errors.js';
import type { User } from './user.model.js';
import { findUserById, findUserByUsername, insertUser } from './user.repository.js';

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

/** Every path that creates a user (API, first start, CLI) goes through here, so it is validated and audited once. */
export async function createUser(
  ctx: AppContext,
  trx: Transaction<Database>,
  input: NewUserInput,
  actor: AuditActor,
): Promise<User> {
  const problem = passwordProblem(input.password);
  if (problem) throw userError('PASSWORD_TOO_WEAK', problem);
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
    time_zone: input.timeZone ?? 'UTC',
    date_format: input.dateFormat ?? 'yyyy-mm-dd',
    language: input.language ?? 'en_us',
    created_at: now,
    updated_at: now,
    deleted_at: null,
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
  return (await findUserById(trx, id))!;
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
