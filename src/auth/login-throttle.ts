import type { Kysely, Transaction } from 'kysely';
import type { AppContext } from '../context.js';
import type { Database } from '../db/schema.js';
import { authError } from './auth.errors.js';

type Q = Kysely<Database> | Transaction<Database>;

/**
 * Failed logins counted per username and per client IP over a sliding window, in the database so every
 * replica sees the same count. Past the limit, attempts get 429 with Retry-After until the oldest failure
 * leaves the window.
 */
export async function assertLoginAllowed(ctx: AppContext, username: string, ip: string): Promise<void> {
  const { maxPerUser, maxPerIp, windowMs } = ctx.config.loginThrottle;
  const since = ctx.clock.now() - windowMs;
  const checks: Array<['user' | 'ip', string, number]> = [
    ['user', username.toLowerCase(), maxPerUser],
    ['ip', ip, maxPerIp],
  ];
  for (const [scope, key, max] of checks) {
    const rows = await ctx.db.kysely
      .selectFrom('auth_failures')
      .select('at')
      .where('scope', '=', scope)
      .where('key', '=', key)
      .where('at', '>', since)
      .orderBy('at', 'desc')
      .limit(max)
      .execute();
    if (rows.length >= max) {
      const oldest = rows[rows.length - 1]!.at;
      const retryAfter = Math.max(1, Math.ceil((oldest + windowMs - ctx.clock.now()) / 1000));
      throw authError(
        'TOO_MANY_ATTEMPTS',
        `Too many failed sign-in attempts. Try again in ${retryAfter} seconds.`,
        {
          headers: { 'retry-after': String(retryAfter) },
        },
      );
    }
  }
}

export async function recordLoginFailure(
  db: Q,
  username: string,
  ip: string,
  now: number,
  windowMs: number,
): Promise<void> {
  await db
    .insertInto('auth_failures')
    .values([
      { scope: 'user', key: username.toLowerCase(), at: now },
      { scope: 'ip', key: ip, at: now },
    ])
    .execute();
  // keep the table small: failures older than the window no longer count
  await db
    .deleteFrom('auth_failures')
    .where('at', '<', now - windowMs)
    .execute();
}

export async function clearUserFailures(db: Q, username: string): Promise<void> {
  await db
    .deleteFrom('auth_failures')
    .where('scope', '=', 'user')
    .where('key', '=', username.toLowerCase())
    .execute();
}

/** One sign-in attempt, counted before its password is checked (see beginLoginAttempt). */
export interface LoginAttempt {
  readonly username: string;
  readonly ip: string;
  readonly rowIds: number[];
}

const SOFT_DELAY_BASE_MS = 250;
const SOFT_DELAY_MAX_MS = 4000;

/**
 * Issue 14, finding 4. Sign-in failures count per (user, client IP) and per IP — those block with 429 —
 * and per user from anywhere, which only slows each further attempt (250 ms doubling to 4 s) and never
 * locks the account: a stranger can no longer lock a user out with five wrong passwords, and a guesser
 * spread over many addresses still meets the delay and the per-IP limits. The attempt is written before
 * it is counted (reserve, then count), so parallel guesses cannot all see a count under the limit: at
 * most `maxPerUser` attempts per (user, IP) reach the password check in a window, on every replica
 * (the rows are in the shared database). A successful sign-in removes its own rows and the user's
 * soft-delay count; other clients' failures for that user stay theirs.
 */
export async function beginLoginAttempt(
  ctx: AppContext,
  typedUsername: string,
  ip: string,
): Promise<LoginAttempt> {
  const { maxPerUser, maxPerIp, windowMs } = ctx.config.loginThrottle;
  const username = typedUsername.toLowerCase();
  const now = ctx.clock.now();
  const db = ctx.db.kysely;
  const scopes: Array<['user-ip' | 'ip' | 'user', string]> = [
    ['user-ip', `${ip}|${username}`],
    ['ip', ip],
    ['user', username],
  ];
  // other scopes in the table (key failures, getchallenge calls) keep windows of their own
  await db
    .deleteFrom('auth_failures')
    .where(
      'scope',
      'in',
      scopes.map(([scope]) => scope),
    )
    .where('at', '<', now - windowMs)
    .execute();
  const rows = await db
    .insertInto('auth_failures')
    .values(scopes.map(([scope, key]) => ({ scope, key, at: now })))
    .returning('id')
    .execute();
  const attempt: LoginAttempt = { username, ip, rowIds: rows.map((r) => r.id) };
  const since = now - windowMs;
  const counts = await Promise.all(
    scopes.map(async ([scope, key]) => {
      const r = await db
        .selectFrom('auth_failures')
        .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.min('at').as('oldest')])
        .where('scope', '=', scope)
        .where('key', '=', key)
        .where('at', '>', since)
        .executeTakeFirstOrThrow();
      return { n: Number(r.n), oldest: Number(r.oldest ?? now) };
    }),
  );
  const [perClient, perIp, perUser] = counts as [(typeof counts)[0], (typeof counts)[0], (typeof counts)[0]];
  if (perClient.n > maxPerUser || perIp.n > maxPerIp) {
    await releaseLoginAttempt(db, attempt);
    const oldest = perClient.n > maxPerUser ? perClient.oldest : perIp.oldest;
    const retryAfter = Math.max(1, Math.ceil((oldest + windowMs - now) / 1000));
    throw authError(
      'TOO_MANY_ATTEMPTS',
      `Too many failed sign-in attempts. Try again in ${retryAfter} seconds.`,
      {
        headers: { 'retry-after': String(retryAfter) },
      },
    );
  }
  const over = perUser.n - maxPerUser;
  if (over > 0) {
    const delay = Math.min(SOFT_DELAY_MAX_MS, SOFT_DELAY_BASE_MS * 2 ** Math.min(over - 1, 10));
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
  return attempt;
}

/** The attempt checked nothing (no challenge token, no key): it does not count. */
export async function releaseLoginAttempt(db: Q, attempt: LoginAttempt): Promise<void> {
  if (attempt.rowIds.length) await db.deleteFrom('auth_failures').where('id', 'in', attempt.rowIds).execute();
}

/** The password was right: forget this attempt, this client's failures and the user's soft-delay count. */
export async function loginAttemptSucceeded(db: Q, attempt: LoginAttempt): Promise<void> {
  await releaseLoginAttempt(db, attempt);
  await db
    .deleteFrom('auth_failures')
    .where((eb) =>
      eb.or([
        eb.and([eb('scope', '=', 'user'), eb('key', '=', attempt.username)]),
        eb.and([eb('scope', '=', 'user-ip'), eb('key', '=', `${attempt.ip}|${attempt.username}`)]),
      ]),
    )
    .execute();
}
