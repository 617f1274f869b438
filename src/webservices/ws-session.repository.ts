import type { ExpressionBuilder, Kysely, QueryCreator, Transaction } from 'kysely';
import { columnTypes, INT_COLUMN_MAX } from '../db/columns.js';
import type { Db, DialectName } from '../db/database.js';
import { allResults, sendTogether, writeStatements } from '../db/group-commit.js';
import { literalLimit } from '../db/literal-limits.js';
import { dialectOf, perKey, prepared, preparedStatement } from '../db/prepared.js';
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

/**
 * One getchallenge (issue 14, finding 4): counts the call from `ip`, then issues a new live token for
 * (user, client IP) if the address's calls this minute, this one included, are within `limit`. Answers
 * whether it issued the token; a refused call is counted too, so an address that floods stays refused.
 *
 * Calls are counted per second (`rate_counts`), so a count costs at most the window's seconds however many
 * calls there were; the second holding `since` counts whole, so the window is up to a second longer than
 * asked, never shorter. A call's place in the window is the other seconds' calls plus this second's count
 * just after its own increment, which the row's lock hands out one at a time: parallel calls from one
 * address get the places 1, 2, 3, … and exactly those within the limit get a token. Earlier tokens stay
 * live, so a stranger's getchallenge cannot void the victim's; only the same client's oldest beyond
 * `perClient` go, and the user's oldest beyond `perUser`, with the user's expired tokens.
 *
 * SQLite: the statements one after another in the group commit. PostgreSQL: one round trip
 * (`sendTogether`) of two statements. The first counts and issues together (the count a data-modifying
 * CTE whose `RETURNING` gives its place) and commits without waiting for the WAL flush (`unflushedCommit`):
 * every getchallenge of an address updates this second's row, and with a flushed commit its lock made
 * calls from one address (a NAT, a pool of workers) queue one flush at a time. A crash can only lose
 * increments, letting an address make a few more calls, or a token just issued, which fails its login as
 * an expired one would. The trim follows as its own statement. (Until stop 61 the count committed alone
 * and the token's insert compared the window's committed sum with the limit: parallel calls reaching the
 * limit together saw each other's increments and could all be refused, 59 tokens of 60 in one CI run.)
 */
export async function issueChallengeWithin(
  db: Db,
  c: {
    userId: number;
    token: string;
    ip: string;
    now: number;
    expiresAt: number;
    /** calls counted from here (the minute) */
    since: number;
    limit: number;
    perClient: number;
    perUser: number;
    /** also delete every address's counts from before `since` (upkeep: they no longer count) */
    sweep?: boolean;
  },
): Promise<boolean> {
  const k = db.kysely;
  const postgres = db.dialect === 'postgres';
  const first = c.since - (c.since % 1000);
  const sweep = c.sweep ? [sweepChallengeCounts(k, first)] : [];
  const trim = trimChallengeTokens(k, c.userId, c.now, c.perUser, c.ip, c.perClient);
  if (!postgres) {
    const count = countChallengeCall(k, c.ip, c.now);
    const issue = issueChallengeToken(k, c.userId, c.token, c.ip, c.now, c.expiresAt, first, c.limit);
    return writeStatements(db, async (w) => {
      for (const q of sweep) await w.executeQuery(q.compile());
      await w.executeQuery(count.compile());
      const { rows } = await w.executeQuery(issue.compile());
      await w.executeQuery(trim.compile());
      return rows.length > 0;
    });
  }
  const second = c.now - (c.now % 1000);
  const issue = countAndIssueChallenge(
    k,
    c.userId,
    c.token,
    c.ip,
    c.now,
    c.expiresAt,
    first,
    second,
    c.limit,
  );
  const results = allResults(await sendTogether(k, [...sweep, issue, trim]));
  // the outcomes in order: the sweep if any, the count and token, the trim
  return results.at(-2)!.rows.length > 0;
}

// getchallenge's statements, prepared (`preparedStatement`): a getchallenge built and compiled them anew at
// every call, ~70 µs of Kysely's work, as much as SQLite takes to run them

const sweepChallengeCounts = preparedStatement((db, first: number) =>
  db.deleteFrom('rate_counts').where('scope', '=', 'ws-challenge-ip').where('second', '<', first),
);

/** One more getchallenge from `ip` in `second`'s row. */
const countCallQuery = (db: QueryCreator<Database>, ip: string, second: number) =>
  db
    .insertInto('rate_counts')
    .values({ scope: 'ws-challenge-ip', key: ip, second, n: 1 })
    .onConflict((oc) =>
      oc.columns(['scope', 'key', 'second']).doUpdateSet((eb) => ({ n: eb('rate_counts.n', '+', 1) })),
    );
const countCall = preparedStatement(countCallQuery);

/** The columns a new token's row fills (`tokenRow`'s order). */
const TOKEN_COLUMNS = ['user_id', 'token', 'ip', 'created_at', 'expires_at'] as const;

/** Counts one getchallenge from `ip` in this second's row (SQLite, in the group commit). */
export function countChallengeCall(db: Q, ip: string, now: number) {
  return countCall(db, ip, now - (now % 1000));
}

/**
 * PostgreSQL: counts one getchallenge from `ip` in `second`'s row and writes the token if the call's place
 * in the window (the calls of the other seconds from `first` on, plus `second`'s count after this
 * increment) is within `limit`; the statement's commit does not wait for the WAL flush. Answers the
 * token's id, or no row when refused. The other seconds are read in the statement's snapshot, later ones
 * too (another replica whose clock is ahead); calls counting in another second at the same moment (one
 * that read the clock just before it turned) are not seen, so at a second's turn a window may let in the
 * few calls in flight then over the limit.
 */
export const countAndIssueChallenge = preparedStatement(
  (
    db,
    userId: number,
    token: string,
    ip: string,
    now: number,
    expiresAt: number,
    first: number,
    second: number,
    limit: number,
  ) =>
    db
      .with('counted', (d) => countCallQuery(d, ip, second).returning(['n', unflushedCommit.as('unflushed')]))
      .insertInto('ws_challenge_tokens')
      .columns(TOKEN_COLUMNS)
      .expression((eb) =>
        eb
          .selectFrom('counted')
          .select((e) => tokenRow(e, 'postgres', userId, token, ip, now, expiresAt))
          .where((e) =>
            e(e('counted.n', '+', e.fn.coalesce(callsOf(db, ip, first, second), e.lit(0))), '<=', limit),
          ),
      )
      .returning('id'),
);

/** The token, written only while the address's calls since `first` are within `limit`. */
const issueChallengeToken = preparedStatement(
  (
    db,
    userId: number,
    token: string,
    ip: string,
    now: number,
    expiresAt: number,
    first: number,
    limit: number,
  ) =>
    db
      .insertInto('ws_challenge_tokens')
      .columns(TOKEN_COLUMNS)
      .expression(
        db
          .selectNoFrom((e) => tokenRow(e, dialectOf(db), userId, token, ip, now, expiresAt))
          .where((e) => e(e.fn.coalesce(callsOf(db, ip, first), e.lit(0)), '<=', limit)),
      )
      .returning('id'),
);

/** A new token's row as a select list, typed: PostgreSQL cannot tell a bare parameter's type. */
function tokenRow<DB, TB extends keyof DB>(
  e: ExpressionBuilder<DB, TB>,
  dialect: DialectName,
  userId: number,
  token: string,
  ip: string,
  now: number,
  expiresAt: number,
) {
  const t = columnTypes(dialect);
  return [
    e.cast<number>(e.val(userId), 'integer').as('user_id'),
    e.cast<string>(e.val(token), 'text').as('token'),
    e.cast<string>(e.val(ip), 'text').as('ip'),
    e.cast<number>(e.val(now), t.timestamp).as('created_at'),
    e.cast<number>(e.val(expiresAt), t.timestamp).as('expires_at'),
  ] as const;
}

/** The getchallenges counted for `ip` from the second `first` on (except the second `except`, if given). */
function callsOf(db: QueryCreator<Database>, ip: string, first: number, except?: number) {
  let q = db
    .selectFrom('rate_counts')
    .select((s) => s.fn.sum<number>('n').as('calls'))
    .where('scope', '=', 'ws-challenge-ip')
    .where('key', '=', ip)
    .where('second', '>=', first);
  if (except !== undefined) q = q.where('second', '<>', except);
  return q;
}

/** at most this many tokens of each kind go per call (each call adds one token: a trim finds a few over at most) */
const TRIM_BATCH = 1000;

/**
 * Each scope keeps its newest tokens: whatever of the user's is beyond its `perUser` newest goes, and so
 * does whatever of the client's is beyond its `perClient` newest, with the user's expired tokens. Beyond
 * the newest the statement sees, not "not among the ones I saw": a token another login issues meanwhile is
 * newer than all of them and must stay (deleting it failed that login as a wrong key). Tokens expire in the
 * order they were issued, so the expired ones are those older than the oldest live one. One statement for
 * all three; after a refused call it finds nothing to delete.
 *
 * Each arm reads the user's tokens in id order from an index in that order (0029) and stops at its end:
 * from the newest past the ones kept, or from the oldest up to the first live one. Under load most of the
 * index entries are dead (a token lives a few seconds, thousands a minute), and PostgreSQL's plain index
 * scans mark those they pass so that later scans skip them; a condition on `expires_at` or `id <` a
 * subquery's answer let it choose bitmap scans, which mark nothing and visit every dead entry's heap page.
 * On PostgreSQL each arm locks the rows it picks and skips those another trim has locked, which that trim
 * deletes anyway: concurrent getchallenges of one user pick overlapping rows, and deleting them in different
 * orders deadlocked (10 workers as one user, once in a few thousand pairs). A skipped row only moves the
 * positions, so a trim may delete fewer than it would have, never a token among the newest.
 */
const trimQuery = perKey((perUser: number) =>
  perKey((perClient: number) =>
    preparedStatement((db, userId: number, now: number, ip: string) => {
      const postgres = dialectOf(db) === 'postgres';
      const mine = () => db.selectFrom('ws_challenge_tokens').select('id').where('user_id', '=', userId);
      /** The tokens to delete, locked (PostgreSQL): those another trim is deleting are its to delete. */
      const taken = <Q extends ReturnType<typeof mine>>(q: Q) => (postgres ? q.forUpdate().skipLocked() : q);
      // the oldest token still live: everything before it has expired
      const oldestLive = mine().where('expires_at', '>=', now).orderBy('id', 'asc').limit(literalLimit(1));
      const arms = [
        // beyond the user's newest `perUser`
        taken(mine().orderBy('id', 'desc').limit(literalLimit(TRIM_BATCH)).offset(literalLimit(perUser))),
        // beyond the client's newest `perClient`
        taken(
          mine()
            .where('ip', '=', ip)
            .orderBy('id', 'desc')
            .limit(literalLimit(TRIM_BATCH))
            .offset(literalLimit(perClient)),
        ),
        // expired: older than the oldest live one (all of them when none is live)
        taken(
          mine()
            .where((eb) =>
              eb(
                'id',
                '<',
                eb.fn.coalesce(oldestLive, eb.lit(postgres ? INT_COLUMN_MAX : Number.MAX_SAFE_INTEGER)),
              ),
            )
            .orderBy('id', 'asc')
            .limit(literalLimit(TRIM_BATCH)),
        ),
      ] as const;
      return db.deleteFrom('ws_challenge_tokens').where('id', 'in', (eb) =>
        eb
          .selectFrom(arms[0].as('a'))
          .select('a.id')
          .unionAll(eb.selectFrom(arms[1].as('b')).select('b.id'))
          .unionAll(eb.selectFrom(arms[2].as('c')).select('c.id')),
      );
    }),
  ),
);

/**
 * The trim with the user's and the client's caps (settings) written into it, and its LIMITs: on PostgreSQL a
 * bound LIMIT or OFFSET, even in a subquery, keeps a named statement planned anew on every run (see
 * `LiteralLimits`), and this one runs at every getchallenge.
 */
export function trimChallengeTokens(
  db: Q,
  userId: number,
  now: number,
  perUser: number,
  ip: string,
  perClient: number,
) {
  return trimQuery(perUser)(perClient)(db, userId, now, ip);
}

/** Per LIMIT (a literal in the SQL, see `LiteralLimits`): the user's live tokens, newest first. */
const liveChallengesQuery = perKey((limit: number) =>
  prepared((db, userId: number, now: number) =>
    db
      .selectFrom('ws_challenge_tokens')
      .select('token')
      .where('user_id', '=', userId)
      .where('expires_at', '>=', now)
      .orderBy('id', 'desc')
      .limit(limit),
  ),
);

/** The user's live tokens, newest first; each is reusable until it expires, as in Vtiger. */
export async function findLiveChallenges(
  db: Q,
  userId: number,
  now: number,
  limit: number,
): Promise<string[]> {
  const { rows } = await liveChallengesQuery(limit)(db, userId, now);
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

const insertWsSessionRow = prepared(
  (db, sessionHash: string, userId: number, keyId: number, now: number, ip: string) =>
    db
      .insertInto('ws_sessions')
      .values({
        session_hash: sessionHash,
        user_id: userId,
        key_id: keyId,
        created_at: now,
        last_seen_at: now,
        ip,
      })
      .returning('id'),
);

export async function insertWsSession(
  db: Q,
  row: { sessionHash: string; userId: number; keyId: number; now: number; ip: string },
): Promise<number> {
  const { rows } = await insertWsSessionRow(db, row.sessionHash, row.userId, row.keyId, row.now, row.ip);
  return rows[0]!.id;
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
