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
