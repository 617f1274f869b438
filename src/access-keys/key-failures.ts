import { sql } from 'kysely';
import type { AppContext } from '../context.js';

const SCOPE = 'key-ip' as const;

/**
 * Failed access-key attempts per client address, counted in `auth_failures` so that every replica on one
 * PostgreSQL sees the same count (SQLite, one process, counts in memory: KeyLimits). Only failures write;
 * a valid key served from the auth cache touches no table. The process that sees the count reach
 * KEY_MAX_FAILURES_PER_IP blocks the address in memory and tells the others (NOTIFY `key-block`); a
 * replica that has not heard yet still finds the count before it looks a key up (`assertKeyAttemptsLeft`).
 */
async function failuresInWindow(ctx: AppContext, ip: string, now: number) {
  const r = await ctx.db.kysely
    .selectFrom('auth_failures')
    .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.min('at').as('oldest')])
    .where('scope', '=', SCOPE)
    .where('key', '=', ip)
    .where('at', '>', now - ctx.config.accessKeys.failureWindowMs)
    .executeTakeFirstOrThrow();
  return { n: Number(r.n), oldest: Number(r.oldest ?? now) };
}

/** Blocks `ip` here and on every other replica until its oldest counted failure leaves the window. */
async function block(ctx: AppContext, ip: string, oldest: number, now: number): Promise<number> {
  const until = oldest + ctx.config.accessKeys.failureWindowMs;
  ctx.keyLimits.block(ip, until, now);
  await ctx.authEvents.publish(ctx.db.kysely, { kind: 'key-block', ip, until }).catch((err: unknown) => {
    ctx.logger.warn({ err }, 'could not tell other replicas about a blocked address');
  });
  return Math.max(1, Math.ceil((until - now) / 1000));
}

const countsInFlight = new WeakMap<object, Map<string, Promise<{ n: number; oldest: number }>>>();

/**
 * Before a key is looked up: seconds to wait when the address has used up its failures, else null.
 * Lookups from one address in flight together share one count: when a busy key's cache entry expires,
 * every request of that moment misses it (and shares one lookup, see AuthCache). Failures are still each
 * counted, and those past the limit refused, by noteKeyFailure, however many passed this check together.
 */
export async function keyAttemptsBlocked(ctx: AppContext, ip: string, now: number): Promise<number | null> {
  const pending = countsInFlight.get(ctx.db) ?? new Map<string, Promise<{ n: number; oldest: number }>>();
  countsInFlight.set(ctx.db, pending);
  let counted = pending.get(ip);
  if (!counted) {
    counted = failuresInWindow(ctx, ip, now).finally(() => pending.delete(ip));
    pending.set(ip, counted);
  }
  const { n, oldest } = await counted;
  return n >= ctx.config.accessKeys.maxFailuresPerIp ? block(ctx, ip, oldest, now) : null;
}

/**
 * Counts one failed attempt. Returns seconds to wait when this attempt was already over the limit
 * (parallel attempts on several replicas): it is answered like a blocked one.
 */
export async function noteKeyFailure(ctx: AppContext, ip: string, now: number): Promise<number | null> {
  const window = ctx.config.accessKeys.failureWindowMs;
  // one round trip: record this failure, prune old ones, count the window (the count's snapshot does not see
  // the row inserted by the same statement, hence + 1)
  const { rows } = await sql<{ n: number; oldest: number }>`
    with added as (
      insert into auth_failures (scope, key, at) values (${SCOPE}, ${ip}, ${now}) returning id
    ), pruned as (
      delete from auth_failures where scope = ${SCOPE} and at <= ${now - window} returning id
    )
    select count(*) + 1 as n, coalesce(min(at), ${now}) as oldest
      from auth_failures
     where scope = ${SCOPE} and key = ${ip} and at > ${now - window}`.execute(ctx.db.kysely);
  const n = Number(rows[0]?.n ?? 1);
  const oldest = Number(rows[0]?.oldest ?? now);
  const max = ctx.config.accessKeys.maxFailuresPerIp;
  if (n < max) return null;
  const retryAfter = await block(ctx, ip, oldest, now);
  return n > max ? retryAfter : null;
}
