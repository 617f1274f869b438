import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { moduleMetaFor } from '../module-meta.js';
import { createRecord, deleteRecord, updateRecord } from '../record.service.js';
import { restRecord, restRecordSchema, restRecordSerializerCompiler } from '../record.view.js';
import { getRecord } from '../record-read.service.js';
import {
  etag,
  moduleParams,
  principalOf,
  recordBody,
  recordParams,
  requiredVersion,
  tags,
  writerOf,
} from './record-route-helpers.js';

/** Create, read, change (with the version read) and delete one record. */
export async function recordItemRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const authenticated = { access: 'authenticated' as const };

  r.post(
    '/records/:module',
    {
      config: authenticated,
      schema: {
        tags,
        summary: 'Create a record; the owner (assigned_user_id) defaults to you',
        params: moduleParams,
        body: recordBody,
        response: { 201: restRecordSchema },
      },
      serializerCompiler: restRecordSerializerCompiler,
    },
    async (req, reply) => {
      const w = await writerOf(ctx, req);
      const meta = await moduleMetaFor(ctx, req.params.module);
      const rec = await createRecord(ctx, w, meta, req.body);
      return reply.code(201).header('etag', etag(rec.version)).send(restRecord(meta, rec));
    },
  );

  r.get(
    '/records/:module/:id',
    {
      config: authenticated,
      schema: { tags, summary: 'Read a record', params: recordParams, response: { 200: restRecordSchema } },
      serializerCompiler: restRecordSerializerCompiler,
    },
    async (req, reply) => {
      const [p, meta] = await Promise.all([principalOf(ctx, req), moduleMetaFor(ctx, req.params.module)]);
      const rec = await getRecord(ctx, p, meta, req.params.id);
      return reply.header('etag', etag(rec.version)).send(restRecord(meta, rec));
    },
  );

  r.patch(
    '/records/:module/:id',
    {
      config: authenticated,
      schema: {
        tags,
        summary: 'Change some fields of a record; send the version you read (If-Match or "version")',
        params: recordParams,
        body: recordBody,
        response: { 200: restRecordSchema },
      },
      serializerCompiler: restRecordSerializerCompiler,
    },
    async (req, reply) => {
      const w = await writerOf(ctx, req);
      const meta = await moduleMetaFor(ctx, req.params.module);
      const version = requiredVersion(req, req.body);
      const rec = await updateRecord(ctx, w, meta, req.params.id, req.body, {
        version,
        mode: 'partial',
      });
      return reply.header('etag', etag(rec.version)).send(restRecord(meta, rec));
    },
  );

  r.delete(
    '/records/:module/:id',
    {
      config: authenticated,
      schema: {
        tags,
        summary: 'Delete a record (it is kept, marked deleted); If-Match is honoured when sent',
        params: recordParams,
        response: { 204: z.null() },
      },
    },
    async (req, reply) => {
      const w = await writerOf(ctx, req);
      const ifMatch = req.headers['if-match'];
      const version =
        typeof ifMatch === 'string' && ifMatch.trim() !== '*' ? requiredVersion(req, {}) : undefined;
      const meta = await moduleMetaFor(ctx, req.params.module);
      await deleteRecord(ctx, w, meta, req.params.id, { version });
      return reply.code(204).send(null);
    },
  );
}
