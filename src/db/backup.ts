import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';

export class BackupError extends Error {}

/**
 * Copies a live SQLite database into `dest` with SQLite's online backup API: a consistent snapshot while
 * Rapport keeps serving (WAL readers do not block writers). Steps copy every remaining page at once, so a
 * write between steps restarts the copy at most briefly instead of starving it under load.
 */
export async function backupSqlite(source: string, dest: string): Promise<{ pages: number }> {
  if (!fs.existsSync(source)) throw new BackupError(`There is no database at ${source}.`);
  if (fs.existsSync(dest)) throw new BackupError(`${dest} already exists; choose a new file name.`);
  const db = new SQLite(source, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    const tmp = `${dest}.partial`;
    const result = await db.backup(tmp, { progress: ({ remainingPages }) => Math.max(remainingPages, 100) });
    fs.renameSync(tmp, dest);
    return { pages: result.totalPages };
  } finally {
    db.close();
  }
}

/** What a backup file says about itself, checked before it replaces anything. */
export function inspectBackup(file: string): { migrations: string[]; keyCheck: string | undefined } {
  if (!fs.existsSync(file)) throw new BackupError(`There is no file ${file}.`);
  let db: SQLite.Database;
  try {
    db = new SQLite(file, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new BackupError(`${file} is not a SQLite database (${(err as Error).message}).`);
  }
  try {
    const integrity = db.pragma('integrity_check', { simple: true });
    if (integrity !== 'ok') throw new BackupError(`${file} is damaged: ${String(integrity)}`);
    const hasMigrations = db
      .prepare("select 1 from sqlite_master where type = 'table' and name = 'kysely_migration'")
      .get();
    if (!hasMigrations) throw new BackupError(`${file} is not a Rapport database.`);
    const migrations = (
      db.prepare('select name from kysely_migration order by name').all() as { name: string }[]
    ).map((r) => r.name);
    const hasCheck = db
      .prepare("select 1 from sqlite_master where type = 'table' and name = 'master_key_check'")
      .get();
    const keyCheck = hasCheck
      ? (
          db.prepare('select check_value from master_key_check where id = 1').get() as
            | { check_value: string }
            | undefined
        )?.check_value
      : undefined;
    return { migrations, keyCheck };
  } catch (err) {
    if (err instanceof BackupError) throw err;
    throw new BackupError(`${file} cannot be read as a Rapport backup (${(err as Error).message}).`);
  } finally {
    db.close();
  }
}

/**
 * Replaces the database at `target` with the backup (Rapport must be stopped): the copy is written next
 * to it and renamed over it, and the old write-ahead log is removed so it cannot be replayed onto the copy.
 */
export async function restoreSqlite(backup: string, target: string): Promise<void> {
  fs.mkdirSync(path.dirname(target), { recursive: true });
  if (fs.existsSync(target)) assertNotInUse(target);
  const tmp = `${target}.restoring`;
  fs.rmSync(tmp, { force: true });
  const src = new SQLite(backup, { readonly: true, fileMustExist: true });
  try {
    await src.backup(tmp);
  } finally {
    src.close();
  }
  for (const suffix of ['-wal', '-shm']) fs.rmSync(`${target}${suffix}`, { force: true });
  fs.renameSync(tmp, target);
}

/**
 * A WAL database opened in exclusive locking mode needs every other connection gone: if a Rapport process
 * still has it open, the first read fails at once with SQLITE_BUSY.
 */
function assertNotInUse(file: string): void {
  const db = new SQLite(file, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 0');
    db.pragma('locking_mode = EXCLUSIVE');
    db.prepare('select count(*) from sqlite_master').get();
  } catch (err) {
    if (String((err as { code?: string }).code).startsWith('SQLITE_BUSY'))
      throw new BackupError(`Rapport is still running on ${file}: stop it before restoring.`);
    throw err;
  } finally {
    db.close();
  }
}
