import { type Insertable, type Kysely, sql, type Transaction, type Updateable } from 'kysely';
import type { Database } from '../db/schema.js';
import { toUser, type User } from './user.model.js';
import type { UserTable } from './user.table.js';

type Q = Kysely<Database> | Transaction<Database>;

function baseSelect(db: Q) {
  return db
    .selectFrom('users')
    .leftJoin('roles', 'roles.id', 'users.role_id')
    .selectAll('users')
    .select('roles.name as role_name');
}

export async function findUserById(db: Q, id: number): Promise<User | undefined> {
  const row = await baseSelect(db).where('users.id', '=', id).executeTakeFirst();
  return row ? toUser(row) : undefined;
}

export async function findUserByUsername(db: Q, username: string): Promise<User | undefined> {
  const row = await baseSelect(db)
    .where('users.username_key', '=', username.toLowerCase())
    .executeTakeFirst();
  return row ? toUser(row) : undefined;
}

export async function findPasswordHash(db: Q, id: number): Promise<string | undefined> {
  const row = await db.selectFrom('users').select('password_hash').where('id', '=', id).executeTakeFirst();
  return row?.password_hash;
}

export interface UserListQuery {
  search?: string;
  status?: 'Active' | 'Inactive';
  roleId?: number;
  /** `true`: only deleted users (restorable); `all`: everyone; otherwise the users who are not deleted */
  deleted?: 'true' | 'false' | 'all';
  limit: number;
  offset: number;
}

export async function listUsers(db: Q, q: UserListQuery): Promise<{ items: User[]; total: number }> {
  let query = baseSelect(db);
  let count = db.selectFrom('users');
  if (q.deleted !== 'all') {
    const deletedOp = q.deleted === 'true' ? 'is not' : 'is';
    query = query.where('users.deleted_at', deletedOp, null);
    count = count.where('users.deleted_at', deletedOp, null);
  }
  if (q.search) {
    const like = `%${q.search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const filter = sql<boolean>`(lower(users.username) like ${like} escape '\\' or lower(users.first_name) like ${like} escape '\\'
      or lower(users.last_name) like ${like} escape '\\' or lower(users.email) like ${like} escape '\\')`;
    query = query.where(filter);
    count = count.where(filter);
  }
  if (q.status) {
    query = query.where('users.status', '=', q.status);
    count = count.where('users.status', '=', q.status);
  }
  if (q.roleId !== undefined) {
    query = query.where('users.role_id', '=', q.roleId);
    count = count.where('users.role_id', '=', q.roleId);
  }
  const [rows, total] = await Promise.all([
    query.orderBy('users.username_key').limit(q.limit).offset(q.offset).execute(),
    count.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { items: rows.map(toUser), total: Number(total.n) };
}

export type NewUserRow = Omit<Insertable<UserTable>, 'id'>;

export async function insertUser(trx: Q, row: NewUserRow): Promise<number> {
  const r = await trx.insertInto('users').values(row).returning('id').executeTakeFirstOrThrow();
  return r.id;
}

export async function updateUserRow(trx: Q, id: number, patch: Updateable<UserTable>): Promise<void> {
  await trx.updateTable('users').set(patch).where('id', '=', id).execute();
}

export async function countActiveAdmins(db: Q): Promise<number> {
  const r = await db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('is_admin', '=', 1)
    .where('status', '=', 'Active')
    .where('deleted_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

export async function countUsers(db: Q): Promise<number> {
  const r = await db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** Active, not deleted users with this address (case-insensitive); several users may share one. */
export async function findActiveUsersByEmail(db: Q, email: string): Promise<User[]> {
  const rows = await baseSelect(db)
    .where(sql<boolean>`lower(users.email) = ${email.toLowerCase()}`)
    .where('users.status', '=', 'Active')
    .where('users.deleted_at', 'is', null)
    .execute();
  return rows.map(toUser);
}
