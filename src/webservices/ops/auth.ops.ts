import { createHash, randomBytes } from 'node:crypto';
import { actorFromRequest, recordAudit } from '../../audit/audit.repository.js';
import {
  beginLoginAttempt,
  type LoginAttempt,
  loginAttemptSucceeded,
  releaseLoginAttempt,
  settleLoginAttempt,
} from '../../auth/login-throttle.js';
import { resolveSession, SESSION_COOKIE } from '../../auth/session.service.js';
import { transaction } from '../../db/direct-transaction.js';
import { withUnitOfWork } from '../../db/unit-of-work.js';
import { AppError } from '../../http/errors.js';
import { safeEqual } from '../../platform/crypto.js';
import { upkeepDue } from '../../platform/upkeep.js';
import type { User } from '../../users/user.model.js';
import { findUserByUsername } from '../../users/user.repository.js';
import { USERS_WS_PREFIX, WS_API_VERSION, WS_LIMITS, WS_VTIGER_VERSION } from '../ws-deps.js';
import { WS_MESSAGES, WsError } from '../ws-errors.js';
import type { WsCall, WsOperation } from '../ws-operation.js';
import { deleteWsSession, findLiveChallenges, issueChallengeWithin } from '../ws-session.repository.js';
import { openWsSession, sweepWsSessions } from '../ws-session.service.js';

/**
 * MariaDB's PAD SPACE collation ignores trailing spaces and case: `admin ` and `ADMIN` find `admin`. Found
 * users are cached with auth (getchallenge and login both look the user up; every user change clears it).
 */
async function findWsUser(call: WsCall, username: string): Promise<User | undefined> {
  const { authCache, db } = call.ctx;
  const key = username.replace(/ +$/, '').toLowerCase();
  const user = await authCache.userByNameThrough(key, db.kysely, () => findUserByUsername(db.kysely, key));
  return user && user.deletedAt === null ? user : undefined;
}

export const getChallenge: WsOperation = {
  name: 'getchallenge',
  method: 'GET',
  prelogin: true,
  async run(call) {
    const username = call.params.string('username');
    if (username === '') throw new WsError('ACCESS_DENIED', WS_MESSAGES.NO_USERNAME);
    const user = await findWsUser(call, username);
    if (!user) throw new WsError('ACCESS_DENIED', WS_MESSAGES.NO_SUCH_USER);
    const { ctx, req } = call;
    const now = ctx.clock.now();
    // each address leaves a row per second; the ones past the minute are deleted every 10 s
    const sweep = upkeepDue(ctx, 'getchallenge counts past the minute', now, 10_000);
    const token = randomBytes(16).toString('hex');
    const allowed = await issueChallengeWithin(ctx.db, {
      userId: user.id,
      token,
      ip: req.ip,
      now,
      expiresAt: now + WS_LIMITS.tokenMs,
      since: now - 60_000,
      limit: ctx.config.wsChallengesPerIpPerMinute,
      perClient: WS_LIMITS.challengesPerClient,
      perUser: WS_LIMITS.challengesPerUser,
      sweep,
    });
    if (!allowed)
      throw new WsError(
        'TOO_MANY_ATTEMPTS',
        'Too many getchallenge requests from this address. Try again in a minute.',
      );
    const serverTime = Math.floor(now / 1000);
    return { token, serverTime, expireTime: serverTime + WS_LIMITS.tokenMs / 1000 };
  },
};

async function refuse(call: WsCall, user: User, reason: string): Promise<never> {
  const { ctx, req } = call;
  // the attempt was counted when it began (beginLoginAttempt)
  await recordAudit(
    ctx.db.kysely,
    { ...actorFromRequest(req), userId: user.id, username: user.username },
    { action: 'webservice.login', outcome: 'failure', details: { reason } },
    ctx.clock.now(),
  );
  throw new WsError('INVALID_USER_CREDENTIALS', WS_MESSAGES.INVALID_CREDENTIALS);
}

export const login: WsOperation = {
  name: 'login',
  method: 'POST',
  prelogin: true,
  async run(call) {
    const { ctx, req } = call;
    const username = call.params.string('username');
    const digest = call.params.string('accessKey');
    // the tokens live when the login arrived: waiting below for the same client's other logins in flight
    // must not let their newer getchallenges push this one's token out of the ones a client keeps. Nothing
    // done before the attempt is counted depends on the digest, so its timing tells nothing about it
    const user = await findWsUser(call, username);
    const tokens = user
      ? await findLiveChallenges(ctx.db.kysely, user.id, ctx.clock.now(), WS_LIMITS.challengesPerUser)
      : [];
    let attempt: LoginAttempt;
    try {
      attempt = await beginLoginAttempt(ctx, username.replace(/ +$/, ''), req.ip);
    } catch (err) {
      if (err instanceof AppError) throw new WsError('TOO_MANY_ATTEMPTS', err.message);
      throw err;
    }
    try {
      return await checkedLogin(call, user, tokens, digest, attempt);
    } finally {
      settleLoginAttempt(ctx, attempt);
    }
  },
};

/** The login's checks once its attempt is counted: token, key, digest, status, API access. */
async function checkedLogin(
  call: WsCall,
  user: User | undefined,
  tokens: string[],
  digest: string,
  attempt: LoginAttempt,
) {
  const { ctx, req } = call;
  if (!user || tokens.length === 0) {
    await releaseLoginAttempt(ctx, attempt);
    throw new WsError('INVALID_AUTH_TOKEN', WS_MESSAGES.INVALID_TOKEN);
  }
  const key = await call.deps.keys.loadKeyForSignIn(ctx, user.id);
  if (!key) {
    await releaseLoginAttempt(ctx, attempt);
    throw new WsError('ACCESSKEY_UNDEFINED', WS_MESSAGES.ACCESSKEY_UNDEFINED);
  }
  // any of the user's live tokens, newest first (a client logs in with a recent one), up to the match;
  // exact comparison, as Vtiger's strcmp (an uppercase digest is refused)
  const matched = tokens.some((token) =>
    safeEqual(
      createHash('md5')
        .update(token + key.plaintext)
        .digest('hex'),
      digest,
    ),
  );
  if (!matched) return refuse(call, user, 'wrong digest');
  if (user.status !== 'Active') return refuse(call, user, 'inactive');
  if (!key.apiAccess) return refuse(call, user, 'api access off');

  await sweepWsSessions(ctx);
  const actor = { ...actorFromRequest(req), userId: user.id, username: user.username };
  // SQLite commits it with the other writes queued meanwhile
  const session = await withUnitOfWork(ctx, actor, async (uow) => {
    const opened = await openWsSession(ctx, user.id, key.keyId, req.ip, uow.trx);
    await loginAttemptSucceeded(uow.trx, attempt);
    await uow.audit({ action: 'webservice.login', details: { wsSessionId: opened.id } });
    return opened;
  });
  call.deps.keys.noteKeyUse(ctx, key.keyId, req.ip);
  return loginResult(user, session.sessionName);
}

function loginResult(user: User, sessionName: string) {
  return {
    username: user.username,
    first_name: user.firstName,
    last_name: user.lastName,
    email: user.email,
    time_zone: user.timeZone,
    hour_format: '24',
    date_format: user.dateFormat,
    is_admin: user.isAdmin ? 'on' : 'off',
    call_duration: '5',
    other_event_duration: '5',
    sessionName,
    userId: `${USERS_WS_PREFIX}x${user.id}`,
    version: WS_API_VERSION,
    vtigerVersion: WS_VTIGER_VERSION,
  };
}

/**
 * `extendsession` (`include/Webservices/ExtendSession.php`): the web UI's signed-in session becomes a
 * web-service session, so code running in the signed-in browser calls the API without an access key. Vtiger
 * adopts the PHP session cookie; Rapport takes its session cookie and, as for every cookie-authenticated
 * change, the X-CSRF-Token header (a cross-site form cannot open sessions). The session belongs to the
 * user's current access key like any other, so regenerating the key or turning API access off ends it; a
 * "log in as" session is refused, as it may not reach the user's key.
 */
export const extendSession: WsOperation = {
  name: 'extendsession',
  method: 'POST',
  prelogin: true,
  async run(call) {
    const { ctx, req } = call;
    // Vtiger: the operation must come in the POST body
    if (call.params.get('operation') === undefined)
      throw new WsError('AUTHENTICATION_REQUIRED', WS_MESSAGES.AUTH_REQUIRED);
    const failure = () => new WsError('AUTHENTICATION_FAILURE', WS_MESSAGES.AUTH_FAILURE);
    const token = req.cookies?.[SESSION_COOKIE];
    if (!token) throw failure();
    const found = await resolveSession(ctx, token);
    if (!found.ok || found.impersonator) throw failure();
    const csrf = req.headers['x-csrf-token'];
    if (typeof csrf !== 'string' || !safeEqual(csrf, found.session.csrfToken)) throw failure();
    const user = found.user;
    if (user.status !== 'Active') throw failure();
    const key = await call.deps.keys.loadKeyForSignIn(ctx, user.id);
    if (!key) throw new WsError('ACCESSKEY_UNDEFINED', WS_MESSAGES.ACCESSKEY_UNDEFINED);
    if (!key.apiAccess) throw failure();
    const session = await openWsSession(ctx, user.id, key.keyId, req.ip);
    await transaction(ctx.db.kysely, (trx) =>
      recordAudit(
        trx,
        { ...actorFromRequest(req), userId: user.id, username: user.username },
        { action: 'webservice.login', details: { wsSessionId: session.id, via: 'extendsession' } },
        ctx.clock.now(),
      ),
    );
    return {
      sessionName: session.sessionName,
      userId: `${USERS_WS_PREFIX}x${user.id}`,
      version: WS_API_VERSION,
      vtigerVersion: WS_VTIGER_VERSION,
    };
  },
};

export const logout: WsOperation = {
  name: 'logout',
  method: 'POST',
  prelogin: false,
  async run(call) {
    if (call.method !== 'POST') throw new WsError('OPERATION_NOT_SUPPORTED', WS_MESSAGES.PERMISSION_DENIED);
    const caller = call.caller!;
    const actor = { ...actorFromRequest(call.req), userId: caller.user.id, username: caller.user.username };
    await withUnitOfWork(call.ctx, actor, async (uow) => {
      // a cached copy of the session must not outlive it (generation-checked: no racing read re-adds it)
      uow.invalidatesAuth();
      await deleteWsSession(uow.trx, caller.sessionId);
      await uow.audit({ action: 'webservice.logout', details: { wsSessionId: caller.sessionId } });
    });
    return { message: 'successfull' };
  },
};
