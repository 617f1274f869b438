import { type Kysely, sql, type Transaction } from 'kysely';
import type { AppContext } from '../context.js';
import { writeDeferred } from '../db/deferred-inserts.js';
import { writesThenRead } from '../db/group-commit.js';
import { preparedStatement } from '../db/prepared.js';
import type { Database } from '../db/schema.js';
import { upkeepDue } from '../platform/upkeep.js';
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
/** How long an attempt waits for this process's other attempts in flight before it is refused. */
const IN_FLIGHT_WAIT_MS = 5000;
/** An attempt this process never settled (its request failed on the way) stops counting as in flight. */
const IN_FLIGHT_MAX_MS = 30_000;

type LimitedScope = 'user-ip' | 'ip';

/**
 * The attempts this process has counted and not yet settled, by (scope, key). Their rows are in
 * auth_failures like failures, and must be (that is what keeps parallel guesses to the limit), but when
 * the only rows over the limit are attempts still in flight *here*, the right answer is to wait for them,
 * not to refuse: ten parallel sign-ins of one user with the right password all succeed. Rows of other
 * replicas' attempts in flight cannot be told from failures and count as failures.
 *
 * A count is a window, not an instant: an attempt whose rows a count saw may settle (and delete them)
 * before the count is compared with what is in flight. So while a key is being counted, attempts that
 * settle stay listed (marked settled) until its last count ends, and a count is compared with every attempt
 * in flight at any moment of it — more in flight means waiting and counting again, never letting more in.
 */
class InFlight {
  private readonly keys = new Map<
    string,
    { attempts: Map<object, { since: number; settled: boolean }>; counting: number }
  >();
  private waiters = new Set<() => void>();

  /**
   * Waits (until `deadline`, then goes ahead) for a place among at most `capacity` attempts in flight
   * here on each key, and registers `attempt` on them. Parallel attempts beyond the limit queue here, in
   * memory, instead of each writing, counting and withdrawing rows again at every settle: that stampede
   * grew with the square of the attempts and, on a loaded machine, outlasted the wait.
   */
  async enter(keys: Array<[string, number]>, attempt: object, deadline: number): Promise<void> {
    for (const [key, capacity] of keys) {
      for (;;) {
        const left = deadline - Date.now();
        if (left <= 0 || this.active(key) < capacity) break;
        await this.settled(left);
      }
      this.add(key, attempt, Date.now());
    }
  }

  private active(key: string): number {
    const k = this.keys.get(key);
    if (!k) return 0;
    let n = 0;
    for (const a of k.attempts.values()) if (!a.settled && Date.now() - a.since <= IN_FLIGHT_MAX_MS) n++;
    return n;
  }

  /** Registered before the attempt's rows are written, so nobody counts its rows as failures meanwhile. */
  private add(key: string, attempt: object, now: number): void {
    const k = this.keys.get(key) ?? { attempts: new Map(), counting: 0 };
    this.keys.set(key, k);
    k.attempts.set(attempt, { since: now, settled: false });
  }

  /** A count of `key`'s rows starts (the caller's attempt is registered on `key`). */
  beginCount(key: string): void {
    const k = this.keys.get(key);
    if (k) k.counting++;
  }

  /** The count of `key` that began with beginCount is done: the attempts other than `self` in flight during it. */
  endCount(key: string, self: object, now: number): number {
    const k = this.keys.get(key);
    if (!k) return 0;
    k.counting = Math.max(0, k.counting - 1);
    let n = 0;
    for (const [attempt, a] of k.attempts) {
      if (now - a.since > IN_FLIGHT_MAX_MS) k.attempts.delete(attempt);
      else if (attempt !== self) n++;
      if (a.settled && k.counting === 0) k.attempts.delete(attempt);
    }
    if (k.attempts.size === 0) this.keys.delete(key);
    return n;
  }

  settle(key: string, attempt: object): void {
    const k = this.keys.get(key);
    const a = k?.attempts.get(attempt);
    if (!k || !a || a.settled) return;
    if (k.counting > 0) a.settled = true;
    else k.attempts.delete(attempt);
    if (k.attempts.size === 0) this.keys.delete(key);
    const waiting = this.waiters;
    this.waiters = new Set();
    for (const wake of waiting) wake();
  }

  /** Resolves when any attempt settles, or after `ms`. */
  settled(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }
}

const inFlightByDb = new WeakMap<object, InFlight>();
function inFlightOf(ctx: AppContext): InFlight {
  const f = inFlightByDb.get(ctx.db) ?? new InFlight();
  inFlightByDb.set(ctx.db, f);
  return f;
}

/** The scopes an attempt counts in, in the order of `beginLoginAttempt`'s statements. */
const ATTEMPT_SCOPES = ['user-ip', 'ip', 'user'] as const;

// a sign-in's statements, prepared: built and compiled at every sign-in they cost Kysely ~50 µs

/** Attempts past the window, in the scopes sign-ins count in (upkeep). */
const sweepAttempts = preparedStatement((db, since: number) =>
  db
    .deleteFrom('auth_failures')
    .where('scope', 'in', [...ATTEMPT_SCOPES])
    .where('at', '<', since),
);

/** The attempt's reservation: a row per scope. */
const reserveAttempt = preparedStatement(
  (db, userIpKey: string, ipKey: string, userKey: string, at: number) =>
    db
      .insertInto('auth_failures')
      .values([
        { scope: 'user-ip', key: userIpKey, at },
        { scope: 'ip', key: ipKey, at },
        { scope: 'user', key: userKey, at },
      ])
      .returning('id'),
);

/** The three counts in one statement, each branch tagged with its scope's place. */
const countAttempts = preparedStatement(
  (db, userIpKey: string, ipKey: string, userKey: string, since: number) => {
    const keys = [userIpKey, ipKey, userKey];
    const [first, ...others] = ATTEMPT_SCOPES.map((scope, i) =>
      db
        .selectFrom('auth_failures')
        .select((eb) => [
          sql.lit(i).as('i'),
          eb.fn.countAll<number | string>().as('n'),
          eb.fn.min('at').as('oldest'),
        ])
        .where('scope', '=', scope)
        .where('key', '=', keys[i]!)
        .where('at', '>', since),
    );
    return others.reduce((q, branch) => q.unionAll(branch), first!);
  },
);

/**
 * Issue 14, finding 4. Sign-in failures count per (user, client IP) and per IP — those block with 429 —
 * and per user from anywhere, which only slows each further attempt (250 ms doubling to 4 s) and never
 * locks the account: a stranger can no longer lock a user out with five wrong passwords, and a guesser
 * spread over many addresses still meets the delay and the per-IP limits. The attempt is written before
 * it is counted (reserve, then count), so parallel guesses cannot all see a count under the limit: at
 * most `maxPerUser` attempts per (user, IP) reach the password check in a window, on every replica
 * (the rows are in the shared database). An attempt over the limit only because of this process's own
 * attempts in flight withdraws its row, waits for one of them to settle and tries again (see InFlight).
 * A successful sign-in removes its own rows and the user's soft-delay count; other clients' failures for
 * that user stay theirs. Callers call `settleLoginAttempt` when the request is done, whatever the outcome.
 */
export async function beginLoginAttempt(
  ctx: AppContext,
  typedUsername: string,
  ip: string,
): Promise<LoginAttempt> {
  const { maxPerUser, maxPerIp, windowMs } = ctx.config.loginThrottle;
  const username = typedUsername.toLowerCase();
  const db = ctx.db.kysely;
  const inFlight = inFlightOf(ctx);
  const userIpKey = `${ip}|${username}`;
  const limits: Array<[LimitedScope, string, number]> = [
    ['user-ip', userIpKey, maxPerUser],
    ['ip', ip, maxPerIp],
  ];
  const waitUntil = Date.now() + IN_FLIGHT_WAIT_MS;
  for (;;) {
    const rowIds: number[] = [];
    const attempt: LoginAttempt = { username, ip, rowIds };
    await inFlight.enter(
      limits.map(([scope, key, max]) => [`${scope}|${key}`, max]),
      attempt,
      waitUntil,
    );
    const now = ctx.clock.now();
    // the count's end is recorded whatever it ends with, or settled attempts would stay listed
    const waiting = () =>
      limits.map(([scope, key]) => inFlight.endCount(`${scope}|${key}`, attempt, Date.now()));
    // counted from before the reservation: a count that began earlier only compares with more in flight
    for (const [scope, key] of limits) inFlight.beginCount(`${scope}|${key}`);
    let counts: Array<{ n: number; oldest: number }>;
    try {
      // rows past the window no longer count (the counts below look at the window only): deleting them is
      // upkeep, done at most every few seconds per process rather than as one more write per sign-in
      const sweep = upkeepDue(ctx, 'sign-in attempts past the window', now, 10_000);
      const since = now - windowMs;
      // reserve, then count what committed: on SQLite the reservation in the group commit (not a write
      // transaction of its own that waits for the batch in flight), on PostgreSQL the reservation and the
      // count in one round trip (writesThenRead)
      const rows = await writesThenRead(
        ctx.db,
        [
          // other scopes in the table (key failures, getchallenge calls) keep windows of their own
          ...(sweep ? [sweepAttempts(db, since)] : []),
          reserveAttempt(db, userIpKey, ip, username, now),
        ],
        countAttempts(db, userIpKey, ip, username, since),
        // known as soon as they are written, so a count that fails still withdraws them below
        (written) => rowIds.push(...((written.at(-1)?.rows ?? []) as Array<{ id: number }>).map((r) => r.id)),
      );
      counts = ATTEMPT_SCOPES.map((_, i) => {
        const r = rows.find((row) => Number(row.i) === i);
        return { n: Number(r?.n ?? 0), oldest: Number(r?.oldest ?? now) };
      });
    } catch (err) {
      waiting();
      // the reservation may have committed although the count failed: withdraw it (nothing to withdraw
      // when it failed itself)
      await releaseLoginAttempt(ctx, attempt).catch(() => {});
      throw err;
    }
    const inFlightDuring = waiting();
    const over = limits.map(([, , max], i) => ({
      n: counts[i]!.n,
      max,
      oldest: counts[i]!.oldest,
      waiting: inFlightDuring[i]!,
    }));
    if (over.every((c) => c.n <= c.max)) {
      const perUser = counts[2]!;
      const excess = perUser.n - maxPerUser;
      if (excess > 0) {
        const delay = Math.min(SOFT_DELAY_MAX_MS, SOFT_DELAY_BASE_MS * 2 ** Math.min(excess - 1, 10));
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
      return attempt;
    }
    await releaseLoginAttempt(ctx, attempt);
    // over only because of this process's attempts in flight: wait for one to settle, then count again
    const onlyInFlight = over.every((c) => c.n - c.waiting <= c.max);
    const left = waitUntil - Date.now();
    if (onlyInFlight && left > 0) {
      await inFlight.settled(left);
      // parallel waiters woken together would all count together again: spread them a little
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 10));
      continue;
    }
    const blocking = over.find((c) => c.n > c.max)!;
    const retryAfter = Math.max(1, Math.ceil((blocking.oldest + windowMs - now) / 1000));
    throw authError(
      'TOO_MANY_ATTEMPTS',
      `Too many failed sign-in attempts. Try again in ${retryAfter} seconds.`,
      {
        headers: { 'retry-after': String(retryAfter) },
      },
    );
  }
}

/** The request that began `attempt` is done (its rows stay as a failure unless released or succeeded). */
export function settleLoginAttempt(ctx: AppContext, attempt: LoginAttempt | undefined): void {
  if (!attempt) return;
  const inFlight = inFlightOf(ctx);
  inFlight.settle(`user-ip|${attempt.ip}|${attempt.username}`, attempt);
  inFlight.settle(`ip|${attempt.ip}`, attempt);
}

/** The attempt checked nothing (no challenge token, no key): it does not count. */
export async function releaseLoginAttempt(ctx: AppContext, attempt: LoginAttempt): Promise<void> {
  if (attempt.rowIds.length)
    await ctx.db.kysely.deleteFrom('auth_failures').where('id', 'in', attempt.rowIds).execute();
  settleLoginAttempt(ctx, attempt);
}

/**
 * The password was right: forget this attempt, this client's failures and the user's soft-delay count — in
 * one statement, so parallel sign-ins of one user (each deleting the others' rows too) lock rows in one
 * scan order and cannot deadlock each other on PostgreSQL, as two statements per transaction did.
 */
export async function loginAttemptSucceeded(db: Q, attempt: LoginAttempt): Promise<void> {
  // nothing reads what it deleted: in a PostgreSQL transaction it goes with the next statement
  await writeDeferred(
    db,
    forgiveAttempt(db, attempt.username, `${attempt.ip}|${attempt.username}`, ...attempt.rowIds),
  );
}

/** Deletes the attempt's rows (ids, one argument each) and the failures it forgives. */
const forgiveAttempt = preparedStatement((db, username: string, userIpKey: string, ...rowIds: number[]) =>
  db
    .deleteFrom('auth_failures')
    .where((eb) =>
      eb.or([
        ...(rowIds.length ? [eb('id', 'in', rowIds)] : []),
        eb.and([eb('scope', '=', 'user'), eb('key', '=', username)]),
        eb.and([eb('scope', '=', 'user-ip'), eb('key', '=', userIpKey)]),
      ]),
    ),
);
