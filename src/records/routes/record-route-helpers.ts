import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { actorFromRequest } from '../../audit/audit.repository.js';
import type { AppContext } from '../../context.js';
import type { Principal } from '../../roles/permissions.js';
import { principalFor } from '../../roles/principal.js';
import { recordError } from '../record.errors.js';
import type { RecordWriter } from '../record-change.model.js';

export const tags = ['Records'];
export const moduleParams = z.object({ module: z.string().min(1).max(64) });
export const recordParams = moduleParams.extend({
  id: z.coerce.number().int().positive().max(2_147_483_647),
});
export const recordBody = z.record(z.string(), z.unknown());

export function principalOf(ctx: AppContext, req: FastifyRequest): Promise<Principal> {
  return principalFor(ctx, req.auth!.user);
}

/** The caller as a record writer: the web UI signs in with a session, integrations with an access key. */
export async function writerOf(ctx: AppContext, req: FastifyRequest): Promise<RecordWriter> {
  return {
    principal: await principalOf(ctx, req),
    actor: actorFromRequest(req),
    channel: req.auth?.method === 'session' ? 'web' : 'api',
    signedIn: true,
  };
}

/** `If-Match: "3"` (or W/"3", or 3) wins over `version` in the body; REST writes must name the version. */
export function requiredVersion(req: FastifyRequest, body: Record<string, unknown>): number {
  const header = req.headers['if-match'];
  const raw = typeof header === 'string' ? header.replace(/^W\//, '').replace(/"/g, '').trim() : body.version;
  if (raw === undefined || raw === null || raw === '')
    throw recordError(
      'VERSION_REQUIRED',
      'Send the version you read, as If-Match: "<version>" or "version" in the body, so changes made meanwhile are not lost.',
    );
  const n = typeof raw === 'number' ? raw : /^\d{1,10}$/.test(String(raw)) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < 1)
    throw recordError('FIELD_INVALID', 'version must be a positive whole number.');
  return n;
}

export const etag = (version: number) => `"${version}"`;
