import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/schema.js';
import { toUser, type User } from '../users/user.model.js';
import type { AccessKeyRow } from './access-key.table.js';

type Q = Kysely<Database> | Transaction<Database>;

/** The hot path of key authentication: one indexed lookup that also loads the key's user. */
export async function findKeyWithUserByDigest(
  db: Q,
  digest: string,
): Promise<{ keyId: number; user: User } | undefined> {
  const row = await db
    .selectFrom('access_keys')
    .innerJoin('users', 'users.id', 'access_keys.user_id')
    .leftJoin('roles', 'roles.id', 'users.role_id')
    .selectAll('users')
    .select(['roles.name as role_name', 'access_keys.id as key_id'])
    .where('access_keys.digest', '=', digest)
    .executeTakeFirst();
  if (!row) return undefined;
  const { key_id, ...userRow } = row;
  return { keyId: key_id, user: toUser(userRow) };
}

export function findKeyByUserId(db: Q, userId: number): Promise<AccessKeyRow | undefined> {
  return db.selectFrom('access_keys').selectAll().where('user_id', '=', userId).executeTakeFirst();
}

/** The user's key with their API access switch, in one statement (a web-service login reads both). */
export function findKeyWithApiAccess(
  db: Q,
  userId: number,
): Promise<(AccessKeyRow & { api_access: number | boolean }) | undefined> {
  return db
    .selectFrom('access_keys')
    .innerJoin('users', 'users.id', 'access_keys.user_id')
    .selectAll('access_keys')
    .select('users.api_access')
    .where('access_keys.user_id', '=', userId)
    .executeTakeFirst();
}

export async function replaceKey(
  trx: Q,
  userId: number,
  key: { digest: string; ciphertext: string; hint: string; created_at: number },
): Promise<number> {
  // Two regenerates at once must not both delete-then-insert (the second insert would hit the unique
  // user_id): a no-op update takes the user row's lock first, so they run one after the other.
  await trx
    .updateTable('users')
    .set((eb) => ({ api_access: eb.ref('api_access') }))
    .where('id', '=', userId)
    .execute();
  await trx.deleteFrom('access_keys').where('user_id', '=', userId).execute();
  const row = await trx
    .insertInto('access_keys')
    .values({ user_id: userId, ...key })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function deleteKeyOfUser(trx: Q, userId: number): Promise<boolean> {
  const r = await trx.deleteFrom('access_keys').where('user_id', '=', userId).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

export async function setApiAccess(trx: Q, userId: number, enabled: boolean, now: number): Promise<void> {
  await trx
    .updateTable('users')
    .set({ api_access: +enabled, updated_at: now })
    .where('id', '=', userId)
    .execute();
}

/** Users who have API access on, with their key's metadata and request count since `since`. */
export async function listApiUsers(db: Q, since: number) {
  return db
    .selectFrom('users')
    .leftJoin('access_keys', 'access_keys.user_id', 'users.id')
    .select((eb) => [
      'users.id',
      'users.username',
      'users.first_name',
      'users.last_name',
      'users.email',
      'users.status',
      'access_keys.created_at as key_created_at',
      'access_keys.last_used_at',
      'access_keys.last_used_ip',
      eb
        .selectFrom('access_key_usage')
        .select((e) => e.fn.coalesce(e.fn.sum<number>('requests'), e.lit(0)).as('n'))
        .whereRef('access_key_usage.key_id', '=', 'access_keys.id')
        .where('access_key_usage.hour', '>=', since)
        .as('requests'),
    ])
    .where('users.api_access', '=', 1)
    .where('users.deleted_at', 'is', null)
    .orderBy('users.username_key')
    .execute();
}

export async function usersWithApiAccessButNoKey(db: Q): Promise<number[]> {
  const rows = await db
    .selectFrom('users')
    .leftJoin('access_keys', 'access_keys.user_id', 'users.id')
    .select('users.id')
    .where('users.api_access', '=', 1)
    .where('users.deleted_at', 'is', null)
    .where('access_keys.id', 'is', null)
    .execute();
  return rows.map((r) => r.id);
}
