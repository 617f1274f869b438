import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { AppContext } from '../context.js';
import { DATABASE_RETRY_AFTER_SECONDS } from '../db/db-errors.js';
import { pendingMigrations } from '../db/migrate.js';
import { masterKeyMatches } from '../platform/master-key-check.js';

/** A load balancer must hear "not ready" well within its own probe timeout, even when the database hangs. */
const READY_CHECK_BUDGET_MS = 1500;

type CheckResult = 'ok' | 'unreachable' | 'pending' | 'mismatch' | 'unknown';

interface Readiness {
  ready: boolean;
  checks: { database: CheckResult; migrations: CheckResult; masterKey: CheckResult };
}

/**
 * `/healthz` — liveness: the process answers (no database call; restart it only when this fails).
 * `/readyz` — readiness: the database answers, every migration this build knows is applied, and the
 * master key is the one the database was set up with. 503 (within 2 s) takes the replica out of rotation.
 */
export async function healthRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const opts = { config: { access: 'public' as const }, schema: { hide: true } };
  app.get('/healthz', opts, async () => ({ status: 'ok' }));
  app.get('/readyz', opts, async (_req, reply) => {
    const result = await withinBudget(checkReadiness(ctx));
    reply.header('cache-control', 'no-store');
    if (!result.ready) reply.code(503).header('retry-after', String(DATABASE_RETRY_AFTER_SECONDS));
    return { status: result.ready ? 'ready' : 'unavailable', checks: result.checks };
  });
}

async function checkReadiness(ctx: AppContext): Promise<Readiness> {
  const checks: Readiness['checks'] = { database: 'unknown', migrations: 'unknown', masterKey: 'unknown' };
  try {
    await sql`select 1`.execute(ctx.db.kysely);
    checks.database = 'ok';
    checks.migrations = (await pendingMigrations(ctx.db)).length === 0 ? 'ok' : 'pending';
    checks.masterKey = (await masterKeyMatches(ctx.db, ctx.secrets)) ? 'ok' : 'mismatch';
  } catch {
    if (checks.database === 'unknown') checks.database = 'unreachable';
  }
  return { ready: Object.values(checks).every((c) => c === 'ok'), checks };
}

async function withinBudget(check: Promise<Readiness>): Promise<Readiness> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<Readiness>((resolve) => {
    timer = setTimeout(
      () =>
        resolve({
          ready: false,
          checks: { database: 'unreachable', migrations: 'unknown', masterKey: 'unknown' },
        }),
      READY_CHECK_BUDGET_MS,
    );
  });
  try {
    return await Promise.race([check, late]);
  } finally {
    clearTimeout(timer);
  }
}
