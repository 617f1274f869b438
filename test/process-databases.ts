import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PG_URL } from './harness.js';
import { scratchDatabase } from './scratch-database.js';

/** A data directory and, on PostgreSQL, a database of the test's own for a real `rapport` process. */
export async function databaseEnv(
  dialect: string,
): Promise<{ env: Record<string, string>; cleanup: () => Promise<void> }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'rapport-e2e-'));
  if (dialect === 'sqlite')
    return {
      env: { DATA_DIR: dataDir },
      cleanup: async () => rmSync(dataDir, { recursive: true, force: true }),
    };
  const db = await scratchDatabase(PG_URL, 'rapport_e2e');
  return {
    env: { DATA_DIR: dataDir, DATABASE_URL: db.url },
    cleanup: async () => {
      await db.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
