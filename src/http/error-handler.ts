import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { classifyDatabaseError, DATABASE_RETRY_AFTER_SECONDS } from '../db/db-errors.js';
import { AppError, type ErrorBody, httpError } from './errors.js';

/** Fastify's own client-error codes, mapped onto ours so every 4xx has the same body shape. */
const FASTIFY_CODES: Record<string, () => AppError> = {
  FST_ERR_CTP_INVALID_JSON_BODY: () => httpError('MALFORMED_JSON', 'The request body is not valid JSON.'),
  FST_ERR_CTP_EMPTY_JSON_BODY: () =>
    httpError('MALFORMED_JSON', 'The request body is empty but Content-Type is application/json.'),
  FST_ERR_CTP_BODY_TOO_LARGE: () => httpError('PAYLOAD_TOO_LARGE', 'The request body is too large.'),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () =>
    httpError('UNSUPPORTED_MEDIA_TYPE', 'This Content-Type is not supported here; send application/json.'),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () => httpError('BAD_REQUEST', 'The Content-Length header is wrong.'),
};

/** A driver error as the client sees it: 400 for a value the database refused, 409 for a race, 503 when away. */
export function databaseAppError(err: unknown): AppError | null {
  const failure = classifyDatabaseError(err);
  if (!failure) return null;
  switch (failure.kind) {
    case 'bad-input':
      return httpError('VALIDATION_FAILED', failure.message, { cause: err });
    case 'conflict':
      return httpError('CONFLICT', failure.message, {
        cause: err,
        ...(failure.column ? { details: { field: failure.column } } : {}),
      });
    case 'unavailable':
      return httpError('DATABASE_UNAVAILABLE', failure.message, {
        cause: err,
        headers: { 'retry-after': String(DATABASE_RETRY_AFTER_SECONDS) },
      });
  }
}

export function toAppError(err: FastifyError | AppError | Error): AppError | null {
  if (err instanceof AppError) return err;
  const fromDatabase = databaseAppError(err);
  if (fromDatabase) return fromDatabase;
  const fe = err as FastifyError;
  if (hasZodFastifySchemaValidationErrors(fe) || Array.isArray(fe.validation)) {
    const issues = (fe.validation ?? []).map((v) => {
      const where = v.instancePath.replace(/^\//, '').replaceAll('/', '.');
      const part = fe.validationContext ?? 'body';
      return where ? `${part}.${where}: ${v.message}` : `${part}: ${v.message}`;
    });
    return httpError('VALIDATION_FAILED', `Invalid request: ${issues.join('; ')}`);
  }
  if (fe.code && FASTIFY_CODES[fe.code]) return FASTIFY_CODES[fe.code]!();
  if (err instanceof SyntaxError && fe.statusCode === 400)
    return FASTIFY_CODES.FST_ERR_CTP_INVALID_JSON_BODY!();
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new AppError(
      fe.statusCode === 404 ? 'NOT_FOUND' : 'BAD_REQUEST',
      fe.statusCode,
      'The request is not valid.',
    );
  }
  return null;
}

export function sendError(reply: FastifyReply, req: FastifyRequest, err: AppError): FastifyReply {
  const body: ErrorBody = {
    error: {
      code: err.code,
      message: err.message,
      requestId: req.id,
      ...(err.details ? { details: err.details } : {}),
    },
  };
  for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
  return reply.code(err.status).type('application/json; charset=utf-8').send(body);
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const appError = toAppError(err);
    if (appError) {
      if (appError.code === 'DATABASE_UNAVAILABLE')
        req.log.warn({ code: (err as { code?: unknown }).code }, `database unavailable: ${err.message}`);
      else if (appError.status >= 500) req.log.error({ err }, 'request failed');
      return sendError(reply, req, appError);
    }
    req.log.error({ err }, 'unhandled error');
    return sendError(
      reply,
      req,
      httpError('INTERNAL_ERROR', 'Something went wrong on our side. Quote the request id.'),
    );
  });
  app.setNotFoundHandler((req, reply) =>
    sendError(reply, req, httpError('ROUTE_NOT_FOUND', `No route ${req.method} ${req.url.split('?')[0]}.`)),
  );
}
