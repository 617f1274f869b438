import fastifyFormbody from '@fastify/formbody';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../context.js';
import { classifyDatabaseError, DATABASE_RETRY_AFTER_SECONDS } from '../db/db-errors.js';
import { AppError } from '../http/errors.js';
import { WS_MESSAGES, WsError } from './ws-errors.js';
import { errorBody, successBody } from './ws-json.js';
import type { WsCaller, WsDeps, WsOperation } from './ws-operation.js';
import { flattenParams, WsParams } from './ws-params.js';
import { toWsError } from './ws-record-errors.js';
import { resolveWsSession } from './ws-session.service.js';

/** The PHP session no-cache headers Vtiger sends on every response. */
const NO_CACHE = {
  expires: 'Thu, 19 Nov 1981 08:52:00 GMT',
  'cache-control': 'no-store, no-cache, must-revalidate',
  pragma: 'no-cache',
};

function send(reply: FastifyReply, body: string, status = 200): FastifyReply {
  return reply.code(status).headers(NO_CACHE).header('content-type', 'application/json').send(body);
}

/**
 * `/webservice.php`: one endpoint, every answer the Vtiger envelope on HTTP 200. Registered in its own
 * scope so the form-body parser and the envelope-shaped error handler apply to nothing else.
 */
export async function webserviceRoutes(
  app: FastifyInstance,
  ctx: AppContext,
  deps: WsDeps,
  operations: Map<string, WsOperation>,
): Promise<void> {
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    await scope.register(fastifyFormbody);
    // Vtiger reads POST parameters from $_POST only: any other body (JSON, multipart…) carries none.
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, _body, done) => done(null, null));
    scope.setErrorHandler((err: FastifyError, req, reply) => {
      const known = knownFailure(reply, err);
      if (known) return known;
      const status = typeof err.statusCode === 'number' && err.statusCode < 500 ? err.statusCode : 200;
      if (status === 200) req.log.error({ err }, 'webservice request failed');
      const message = status === 413 ? 'The request body is too large' : WS_MESSAGES.INTERNAL;
      const code = status === 200 ? 'INTERNAL_SERVER_ERROR' : 'INVALID_REQUEST';
      return send(reply, errorBody(code, message), status);
    });

    const handler = async (req: FastifyRequest, reply: FastifyReply) => {
      try {
        const result = await dispatch(ctx, deps, operations, req);
        return send(reply, successBody(result));
      } catch (thrown) {
        const err = toWsError(thrown);
        if (err instanceof WsError) return send(reply, errorBody(err.code, err.message));
        const known = knownFailure(reply, err);
        if (known) {
          if (reply.statusCode === 503) req.log.warn(`database unavailable: ${(err as Error).message}`);
          return known;
        }
        req.log.error({ err }, 'webservice operation failed');
        return send(reply, errorBody('INTERNAL_SERVER_ERROR', WS_MESSAGES.INTERNAL));
      }
    };
    const opts = { config: { access: 'public' as const }, schema: { hide: true } };
    scope.get('/webservice.php', opts, handler);
    scope.post('/webservice.php', opts, handler);
  });
}

/**
 * Failures every channel shares, in the envelope: a refused value (edge checks or the driver), a race lost
 * to another request, and a database that is away (HTTP 503 with Retry-After, so proxies and clients wait).
 */
function knownFailure(reply: FastifyReply, err: unknown): FastifyReply | null {
  if (err instanceof AppError && err.status === 400)
    return send(reply, errorBody('INVALID_REQUEST', err.message));
  const failure = classifyDatabaseError(err);
  if (!failure) return null;
  if (failure.kind === 'bad-input') return send(reply, errorBody('INVALID_REQUEST', failure.message));
  if (failure.kind === 'conflict') return send(reply, errorBody('FAILED_TO_UPDATE', failure.message));
  reply.header('retry-after', String(DATABASE_RETRY_AFTER_SECONDS));
  return send(reply, errorBody('DATABASE_UNAVAILABLE', failure.message), 503);
}

async function dispatch(
  ctx: AppContext,
  deps: WsDeps,
  operations: Map<string, WsOperation>,
  req: FastifyRequest,
): Promise<unknown> {
  const query = flattenParams(req.query);
  const body = req.method === 'POST' ? flattenParams(req.body) : {};
  // operation and sessionName come from $_REQUEST (either source, the body winning), as in Vtiger
  const request = { ...query, ...body };
  const name = (request.operation ?? '').toLowerCase();
  const op = operations.get(name);
  if (!op) throw new WsError('UNKNOWN_OPERATION', WS_MESSAGES.UNKNOWN_OPERATION);

  let caller: WsCaller | null = null;
  if (!op.prelogin) {
    const sessionName = request.sessionName;
    if (!sessionName || sessionName.toLowerCase() === 'null') {
      throw new WsError('AUTHENTICATION_REQUIRED', WS_MESSAGES.AUTH_REQUIRED);
    }
    caller = await resolveWsSession(ctx, deps, sessionName, req.ip);
  }
  // the operation's registered type decides the source ($_GET or $_POST): a POST operation sent as GET
  // gets no parameters
  const params = new WsParams(op.method === 'GET' ? query : body);
  return op.run({ ctx, deps, req, method: req.method, params, caller });
}
