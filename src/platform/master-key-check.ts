import type { Db } from '../db/database.js';
import type { SecretBox } from './secrets.js';

const CHECK_TEXT = 'rapport/master-key-check/v1';

export type MasterKeyVerdict = 'ok' | 'mismatch';

/** The check value of a master key: a keyed digest of a fixed text, which reveals nothing about the key. */
export function masterKeyCheckValue(secrets: SecretBox): string {
  return secrets.digest(CHECK_TEXT);
}

/**
 * Compares the master key with the check value stored by the first process that used this database; the
 * first start stores it. A database from before the check was stored proves the key by opening one
 * sealed access key instead, so an upgrade with the wrong key is refused too.
 */
export async function verifyMasterKey(db: Db, secrets: SecretBox, now: number): Promise<MasterKeyVerdict> {
  const expected = masterKeyCheckValue(secrets);
  const stored = await readCheckValue(db);
  if (stored !== undefined) return stored === expected ? 'ok' : 'mismatch';
  const sealed = await db.kysely.selectFrom('access_keys').select('ciphertext').limit(1).executeTakeFirst();
  if (sealed) {
    try {
      secrets.decrypt(sealed.ciphertext);
    } catch {
      return 'mismatch';
    }
  }
  await db.kysely
    .insertInto('master_key_check')
    .values({ id: 1, check_value: expected, created_at: now })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
  // another replica may have stored its own value first
  return (await readCheckValue(db)) === expected ? 'ok' : 'mismatch';
}

/** For readiness: does the stored check value still match (no first-start write)? */
export async function masterKeyMatches(db: Db, secrets: SecretBox): Promise<boolean> {
  const stored = await readCheckValue(db);
  return stored === undefined || stored === masterKeyCheckValue(secrets);
}

async function readCheckValue(db: Db): Promise<string | undefined> {
  const row = await db.kysely
    .selectFrom('master_key_check')
    .select('check_value')
    .where('id', '=', 1)
    .executeTakeFirst();
  return row?.check_value;
}
