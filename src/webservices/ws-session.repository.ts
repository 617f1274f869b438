import type { ExpressionBuilder, Kysely, Transaction } from 'kysely';
import { writeDeferred } from '../db/deferred-inserts.js';
import { preparedInsert } from '../db/prepared.js';
import type { Database } from '../db/schema.js';
import { unflushedCommit } from '../db/unflushed-commit.js';
import { toUser, type User } from '../users/user.model.js';
import type { WsSessionRow } from './ws-session.table.js';

type Q = Kysely<Database> | Transaction<Database>;

export async function replaceChallenge(
  db: Q,
  userId: number,
  token: string,
  now: number,
  expiresAt: number,
): Promise<void> {
  await db
    .insertInto('ws_challenges')
    .values({ user_id: userId, token, created_at: now, expires_at: expiresAt })
    .onConflict((oc) => oc.column('user_id').doUpdateSet({ token, created_at: now, expires_at: expiresAt }))
    .execute();
}

const insertChallengeTokens = preparedInsert('ws_challenge_tokens', [
  'user_id',
  'token',
  'ip',
  'created_at',
  'expires_at',
]);

/**
 * A new live token for (user, client IP) — issue 14, finding 4. Earlier tokens stay live, so a stranger's
 * getchallenge cannot void the victim's; only the same client's oldest beyond `perClient` go, and the
 * user's oldest beyond `perUser`. Expired tokens are swept on the way.
 */
export async function issueChallenge(
  db: Q,
  c: {
    userId: number;
    token: string;
    ip: string;
    now: number;
    expiresAt: number;
    perClient: number;
    perUser: number;
  },
): Promise<void> {
  // Each scope keeps its newest `limit` tokens: whatever is older than the limit-th newest goes (none while
  // fewer are live: the subquery is then null). Older than it, not "not among the ones I saw": a token
  // another login issues meanwhile is newer than all of them and must stay (deleting it failed that login
  // as a wrong key). One statement for both scopes and the user's expired tokens.
  const limitthNewest = (
    eb: ExpressionBuilder<Database, 'ws_challenge_tokens'>,
    limit: number,
    ip?: string,
  ) =>
    eb
      .selectFrom('ws_challenge_tokens')
      .select('id')
      .where('user_id', '=', c.userId)
      .$if(ip !== undefined, (q) => q.where('ip', '=', ip!))
      .orderBy('id', 'desc')
      .limit(1)
      .offset(limit - 1);
  const trim = db
    .deleteFrom('ws_challenge_tokens')
    .where('user_id', '=', c.userId)
    .where((eb) =>
      eb.or([
        eb('expires_at', '<', c.now),
        eb('id', '<', limitthNewest(eb, c.perUser)),
        eb.and([eb('ip', '=', c.ip), eb('id', '<', limitthNewest(eb, c.perClient, c.ip))]),
      ]),
    );
  // Nobody reads either result: in a PostgreSQL transaction both wait and go with its COMMIT, one round trip
  // for BEGIN, the insert, the trim and COMMIT (deferInserts); the trim still sees the new token. Inside a
  // transaction already (SQLite's group commit) they join it.
  const write = async (trx: Q) => {
    await insertChallengeTokens(trx, [
      { user_id: c.userId, token: c.token, ip: c.ip, created_at: c.now, expires_at: c.expiresAt },
    ]);
    await writeDeferred(trx, trim);
  };
  if (db.isTransaction) await write(db);
  else await db.transaction().execute(write);
}

/**
 * Notes one getchallenge from `ip` and answers how many it made since `since`, this one included, on
 * every replica. Calls are counted per second (`rate_counts`), so the answer costs at most the window's
 * seconds however many calls there were; the second holding `since` counts whole, so the window is up to
 * a second longer than asked, never shorter. The upsert answers this second's count with this call in it,
 * so parallel calls each get their own number and cannot all see a count under the limit; the earlier
 * seconds are summed in the same statement.
 */
export async function noteChallengeFromIp(
  db: Q,
  ip: string,
  now: number,
  since: number,
  opts: {
    /** also delete every address's counts from before `since` (upkeep: they no longer count) */
    sweep?: boolean;
    /**
     * PostgreSQL, a statement that is its own transaction only: its commit does not wait for the WAL flush
     * (`unflushedCommit`). Every getchallenge of an address updates this second's row, and its lock lasts
     * until the commit: with a flushed commit, calls from one address (a NAT, a pool of workers) queued one
     * flush at a time. A crash can only lose increments, letting an address make a few more calls.
     */
    unflushed?: boolean;
  } = {},
): Promise<number> {
  const { sweep = false, unflushed = false } = opts;
  const second = now - (now % 1000);
  const first = since - (since % 1000);
  if (sweep)
    await db
      .deleteFrom('rate_counts')
      .where('scope', '=', 'ws-challenge-ip')
      .where('second', '<', first)
      .execute();
  // refused calls are counted too: an address that floods stays refused. One statement: the upsert answers
  // this second's count and, in a subquery, the earlier seconds' sum
  const r = await db
    .insertInto('rate_counts')
    .values({ scope: 'ws-challenge-ip', key: ip, second, n: 1 })
    .onConflict((oc) =>
      oc.columns(['scope', 'key', 'second']).doUpdateSet((eb) => ({ n: eb('rate_counts.n', '+', 1) })),
    )
    .returning((eb) => [
      'n',
      eb
        .selectFrom('rate_counts as r')
        .select((e) => e.fn.sum<number | string | null>('r.n').as('s'))
        .where('r.scope', '=', 'ws-challenge-ip')
        .where('r.key', '=', ip)
        .where('r.second', '>=', first)
        .where('r.second', '<', second)
        .as('before'),
      ...(unflushed ? [unflushedCommit.as('unflushed')] : []),
    ])
    .executeTakeFirstOrThrow();
  return Number(r.n) + Number(r.before ?? 0);
}

/** The user's live tokens, newest first; each is reusable until it expires, as in Vtiger. */
export async function findLiveChallenges(
  db: Q,
  userId: number,
  now: number,
  limit: number,
): Promise<string[]> {
  const rows = await db
    .selectFrom('ws_challenge_tokens')
    .select('token')
    .where('user_id', '=', userId)
    .where('expires_at', '>=', now)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => r.token);
}

/** The user's token if it has not expired; a token is reusable until then, as in Vtiger. */
export async function findLiveChallenge(db: Q, userId: number, now: number): Promise<string | undefined> {
  const row = await db
    .selectFrom('ws_challenges')
    .select('token')
    .where('user_id', '=', userId)
    .where('expires_at', '>=', now)
    .executeTakeFirst();
  return row?.token;
}

export async function insertWsSession(
  db: Q,
  row: { sessionHash: string; userId: number; keyId: number; now: number; ip: string },
): Promise<number> {
  const r = await db
    .insertInto('ws_sessions')
    .values({
      session_hash: row.sessionHash,
      user_id: row.userId,
      key_id: row.keyId,
      created_at: row.now,
      last_seen_at: row.now,
      ip: row.ip,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return r.id;
}

/** The session and its user in one round trip (the hot path of every web-service call). */
export async function findWsSessionWithUser(
  db: Q,
  sessionHash: string,
): Promise<{ session: WsSessionRow; user: User } | undefined> {
  const row = await db
    .selectFrom('ws_sessions as s')
    .innerJoin('users', 'users.id', 's.user_id')
    .leftJoin('roles', 'roles.id', 'users.role_id')
    .selectAll('users')
    .select([
      's.id as s_id',
      's.session_hash as s_session_hash',
      's.user_id as s_user_id',
      's.key_id as s_key_id',
      's.created_at as s_created_at',
      's.last_seen_at as s_last_seen_at',
      's.ip as s_ip',
      'roles.name as role_name',
    ])
    .where('s.session_hash', '=', sessionHash)
    .executeTakeFirst();
  if (!row) return undefined;
  const session: WsSessionRow = {
    id: row.s_id,
    session_hash: row.s_session_hash,
    user_id: row.s_user_id,
    key_id: row.s_key_id,
    created_at: row.s_created_at,
    last_seen_at: row.s_last_seen_at,
    ip: row.s_ip,
  };
  return { session, user: toUser(row) };
}

export async function touchWsSession(db: Q, id: number, now: number): Promise<void> {
  await db.updateTable('ws_sessions').set({ last_seen_at: now }).where('id', '=', id).execute();
}

export async function deleteWsSession(db: Q, id: number): Promise<void> {
  await db.deleteFrom('ws_sessions').where('id', '=', id).execute();
}

/** Sessions past their life span or idle limit; run from time to time so the table stays small. */
export async function deleteStaleWsSessions(db: Q, createdBefore: number, seenBefore: number): Promise<void> {
  await db
    .deleteFrom('ws_sessions')
    .where((eb) => eb.or([eb('created_at', '<', createdBefore), eb('last_seen_at', '<', seenBefore)]))
    .execute();
}
