import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import { actorFromRequest, recordAudit } from '../audit/audit.repository.js';
import type { AppContext } from '../context.js';
import { transaction } from '../db/direct-transaction.js';
import { httpError } from '../http/errors.js';
import {
  impersonationSettingsSchema,
  PUBLIC_SECTIONS,
  type Settings,
  type SettingsSection,
  settingsPatchSchema,
  settingsSchema,
} from './settings.model.js';
import { loadSettings, mergeSection, saveSettingsSection } from './settings.repository.js';

const readSchema = settingsSchema.extend({
  impersonation: impersonationSettingsSchema.optional().describe('administrators only'),
});

export async function settingsRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const db = ctx.db.kysely;
  const tags = ['Settings'];
  r.get(
    '/settings',
    {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary:
          'Organisation settings: company details, default currency and time zone, password policy; admins also see the "log in as" rules',
        response: { 200: readSchema },
      },
    },
    async (req) => {
      const all = await loadSettings(db);
      if (req.auth!.user.isAdmin) return all;
      return Object.fromEntries(PUBLIC_SECTIONS.map((k) => [k, all[k]])) as z.infer<typeof readSchema>;
    },
  );

  r.put(
    '/settings',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary:
          'Change organisation settings (admins). Send any subset of sections and fields; the rest keep their values. ' +
          'The password minimum length can only be 12 or more.',
        body: settingsPatchSchema,
        response: { 200: settingsSchema },
      },
    },
    async (req) => {
      const now = ctx.clock.now();
      const saved = await transaction(db, async (trx) => {
        const before = await loadSettings(trx);
        const changes: Record<string, { from: unknown; to: unknown }> = {};
        const after: Record<string, unknown> = { ...before };
        for (const [key, patch] of Object.entries(req.body) as Array<[SettingsSection, unknown]>) {
          const merged = settingsSchema.shape[key].safeParse(mergeSection(before[key], patch));
          if (!merged.success)
            throw httpError('VALIDATION_FAILED', `${key}: ${merged.error.issues[0]?.message}`);
          if (JSON.stringify(merged.data) === JSON.stringify(before[key])) continue;
          after[key] = merged.data;
          changes[key] = { from: before[key], to: merged.data };
          await saveSettingsSection(trx, key, merged.data, req.auth!.user.id, now);
        }
        if (Object.keys(changes).length > 0) {
          await recordAudit(
            trx,
            actorFromRequest(req),
            {
              action: 'settings.updated',
              target: { type: 'settings', id: 'organisation' },
              details: { changes },
            },
            now,
          );
        }
        return after as Settings;
      });
      return saved;
    },
  );
}
