import type { FastifyRequest } from 'fastify';
import { actorFromRequest, recordAudit } from '../audit/audit.repository.js';
import type { AppContext } from '../context.js';
import type { AuthState } from '../http/types.js';
import { KEY_FAILURE_MESSAGES, keyError } from './access-key.errors.js';
import { noteKeyUse, verifyAccessKey } from './access-key.service.js';
import { keyAttemptsBlocked, noteKeyFailure } from './key-failures.js';

function tooManyFailures(seconds: number) {
  return keyError(
    'TOO_MANY_KEY_FAILURES',
    `Too many failed access-key attempts from your address. Try again in ${seconds} seconds.`,
    { headers: { 'retry-after': String(seconds) } },
  );
}

/** Parses `Bearer <key>` or Basic `username:key` (the Vtiger REST convention) without trimming the key. */
function parseAuthorization(
  header: string,
): { key: string; username?: string; scheme: 'bearer' | 'basic' } | null {
  const bearer = /^Bearer (.*)$/is.exec(header);
  if (bearer) return { key: bearer[1]!, scheme: 'bearer' };
  const basic = /^Basic ([A-Za-z0-9+/=]*)$/i.exec(header);
  if (basic) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return { key: '', username: decoded, scheme: 'basic' };
    return { username: decoded.slice(0, colon), key: decoded.slice(colon + 1), scheme: 'basic' };
  }
  return null;
}

/**
 * The keyed digest of the key last presented on each connection. A client sends the same key with every
 * request of a keep-alive connection, and its HMAC was ~5 % of a REST read's CPU. The key is held as long as
 * the connection is (its requests' headers hold it meanwhile anyway), and only to recognise it: the digest
 * is a pure function of it, so a key revoked meanwhile is refused by the lookup as before.
 */
const digestOnConnection = new WeakMap<object, { key: string; digest: string }>();

function connectionDigest(ctx: AppContext, connection: object | undefined): (key: string) => string {
  if (!connection) return ctx.secrets.digest;
  return (key) => {
    const last = digestOnConnection.get(connection);
    if (last?.key === key) return last.digest;
    const digest = ctx.secrets.digest(key);
    digestOnConnection.set(connection, { key, digest });
    return digest;
  };
}

export async function authenticateWithKey(
  ctx: AppContext,
  req: FastifyRequest,
  header: string,
): Promise<AuthState> {
  const now = ctx.clock.now();
  const blockedFor = ctx.keyLimits.failureBlocked(req.ip, now);
  if (blockedFor !== null) throw tooManyFailures(blockedFor);
  // replicas on one PostgreSQL count failures per address together (key-failures.ts)
  const shared = ctx.db.dialect === 'postgres';
  const parsed = parseAuthorization(header);
  if (!parsed) {
    throw keyError(
      'UNSUPPORTED_AUTH_SCHEME',
      'Use "Authorization: Bearer <accessKey>" or HTTP Basic with username:accessKey.',
    );
  }
  const result = await verifyAccessKey(
    ctx,
    parsed.key,
    parsed.username,
    shared
      ? async () => {
          const wait = await keyAttemptsBlocked(ctx, req.ip, now);
          if (wait !== null) throw tooManyFailures(wait);
        }
      : undefined,
    connectionDigest(ctx, req.raw.socket),
  );
  if (!result.ok) {
    let overLimit: number | null = null;
    if (shared) overLimit = await noteKeyFailure(ctx, req.ip, now);
    else ctx.keyLimits.noteFailure(req.ip, now);
    await recordAudit(
      ctx.db.kysely,
      actorFromRequest(req),
      {
        action: 'auth.access_key',
        outcome: 'failure',
        details: { reason: result.failure, scheme: parsed.scheme },
      },
      now,
    );
    if (overLimit !== null) throw tooManyFailures(overLimit);
    throw keyError(result.failure, KEY_FAILURE_MESSAGES[result.failure]);
  }
  const rate = ctx.keyLimits.take(result.keyId, now);
  if (!rate.ok) {
    throw keyError(
      'ACCESS_KEY_RATE_LIMITED',
      `This access key is over its request rate. Retry in ${rate.retryAfter} seconds.`,
      {
        headers: { 'retry-after': String(rate.retryAfter) },
      },
    );
  }
  noteKeyUse(ctx, result.keyId, req.ip);
  return { user: result.user, method: 'access-key', keyId: result.keyId };
}
