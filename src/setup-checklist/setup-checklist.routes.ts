import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Kysely, Transaction } from 'kysely';
import type { z } from 'zod';
import { actorFromRequest, recordAudit } from '../audit/audit.repository.js';
import type { AppContext } from '../context.js';
import { transaction } from '../db/direct-transaction.js';
import type { Database } from '../db/schema.js';
import { httpError } from '../http/errors.js';
import { CHECKLIST_STEPS, checklistPatchSchema, checklistSchema } from './setup-checklist.model.js';

type Q = Kysely<Database> | Transaction<Database>;

async function loadChecklist(db: Q): Promise<z.infer<typeof checklistSchema>> {
  const rows = await db
    .selectFrom('setup_checklist')
    .leftJoin('users', 'users.id', 'setup_checklist.updated_by_user_id')
    .selectAll('setup_checklist')
    .select('users.username')
    .orderBy('setup_checklist.position')
    .execute();
  const byKey = new Map(rows.map((r) => [r.step, r]));
  const steps = CHECKLIST_STEPS.map((s) => {
    const row = byKey.get(s.key);
    return {
      key: s.key,
      title: s.title,
      description: s.description,
      status: row?.status ?? 'not_started',
      notes: row?.notes ?? '',
      updatedBy:
        row?.updated_by_user_id != null ? { id: row.updated_by_user_id, username: row.username ?? '' } : null,
      updatedAt: row?.updated_at != null ? new Date(row.updated_at).toISOString() : null,
    };
  });
  const completed = steps.filter((s) => s.status === 'done' || s.status === 'skipped').length;
  return { steps, completed, total: steps.length };
}

/** The pilot-edition setup checklist in Settings: each step's status, notes, who changed it and when. */
export async function setupChecklistRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const db = ctx.db.kysely;
  const tags = ['Settings'];
  r.get(
    '/setup-checklist',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary:
          'The pilot setup checklist (identify a team, decide scope, design the flow, configure, test)',
        response: { 200: checklistSchema },
      },
    },
    async () => loadChecklist(db),
  );

  r.patch(
    '/setup-checklist',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Update steps of the setup checklist: status and/or notes',
        body: checklistPatchSchema,
        response: { 200: checklistSchema },
      },
    },
    async (req) => {
      const keys = req.body.steps.map((s) => s.key);
      if (new Set(keys).size !== keys.length)
        throw httpError('VALIDATION_FAILED', 'steps: each step may appear once.');
      const now = ctx.clock.now();
      return transaction(db, async (trx) => {
        const before = await loadChecklist(trx);
        const changes: Record<string, unknown> = {};
        for (const s of req.body.steps) {
          const old = before.steps.find((b) => b.key === s.key)!;
          const status = s.status ?? old.status;
          const notes = s.notes ?? old.notes;
          if (status === old.status && notes === old.notes) continue;
          const position = CHECKLIST_STEPS.findIndex((c) => c.key === s.key);
          const values = { status, notes, updated_at: now, updated_by_user_id: req.auth!.user.id };
          await trx
            .insertInto('setup_checklist')
            .values({ step: s.key, position, ...values })
            .onConflict((oc) => oc.column('step').doUpdateSet(values))
            .execute();
          changes[s.key] = { status: { from: old.status, to: status }, notesChanged: notes !== old.notes };
        }
        if (Object.keys(changes).length > 0) {
          await recordAudit(
            trx,
            actorFromRequest(req),
            {
              action: 'setup_checklist.updated',
              target: { type: 'setup_checklist', id: 'pilot' },
              details: { changes },
            },
            now,
          );
        }
        return loadChecklist(trx);
      });
    },
  );
}
