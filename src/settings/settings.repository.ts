import type { Kysely, Transaction } from 'kysely';
import type { PasswordPolicy } from '../auth/password-policy.js';
import type { Database } from '../db/schema.js';
import type { UserRemovalHook } from '../users/user-removal.js';
import { DEFAULT_SETTINGS, type Settings, type SettingsSection, settingsSchema } from './settings.model.js';

type Q = Kysely<Database> | Transaction<Database>;

/** Stored sections over the defaults; a stored value that no longer parses falls back to its default. */
export async function loadSettings(db: Q): Promise<Settings> {
  const rows = await db.selectFrom('settings').select(['key', 'value']).execute();
  const out: Record<string, unknown> = { ...DEFAULT_SETTINGS };
  for (const row of rows) {
    if (!(row.key in DEFAULT_SETTINGS)) continue;
    const key = row.key as SettingsSection;
    const merged = mergeSection(DEFAULT_SETTINGS[key], JSON.parse(row.value));
    const parsed = settingsSchema.shape[key].safeParse(merged);
    if (parsed.success) out[key] = parsed.data;
  }
  return out as Settings;
}

export async function loadPasswordPolicy(db: Q): Promise<PasswordPolicy> {
  return (await loadSettings(db)).passwordPolicy;
}

export async function saveSettingsSection(
  trx: Q,
  key: SettingsSection,
  value: unknown,
  userId: number | null,
  now: number,
): Promise<void> {
  const values = { key, value: JSON.stringify(value), updated_at: now, updated_by_user_id: userId };
  await trx
    .insertInto('settings')
    .values(values)
    .onConflict((oc) =>
      oc.column('key').doUpdateSet({ value: values.value, updated_at: now, updated_by_user_id: userId }),
    )
    .execute();
}

export function mergeSection(base: unknown, patch: unknown): unknown {
  if (isObject(base) && isObject(patch)) return { ...base, ...patch };
  return patch;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A deleted user goes for good: the sections they last changed name the user who received their things. */
export const settingsUserRemoval: UserRemovalHook = {
  feature: 'settings',
  async purged({ trx }, removal) {
    await trx
      .updateTable('settings')
      .set({ updated_by_user_id: removal.receiverId })
      .where('updated_by_user_id', '=', removal.userId)
      .execute();
  },
};
