import fs from 'node:fs';
import { createPasswordHasher, type PasswordHasher } from './auth/password.js';
import type { Config } from './config.js';
import { type Db, openDatabase } from './db/database.js';
import { migrateToLatest } from './db/migrate.js';
import { type Clock, systemClock } from './platform/clock.js';
import { createLogger, type Logger } from './platform/logger.js';

/** Everything a request handler or job may use, built once at start and passed explicitly. */
export interface AppContext {
  config: Config;
  db: Db;
  logger: Logger;
  clock: Clock;
  passwords: PasswordHasher;
}

export interface ContextOverrides {
  db?: Db;
  logger?: Logger;
  clock?: Clock;
}

export async function createContext(config: Config, overrides: ContextOverrides = {}): Promise<AppContext> {
  const logger = overrides.logger ?? createLogger(config.logLevel);
  if (config.database.kind === 'sqlite') fs.mkdirSync(config.dataDir, { recursive: true });
  const db = overrides.db ?? openDatabase(config.database);
  await migrateToLatest(db);
  return {
    config,
    db,
    logger,
    clock: overrides.clock ?? systemClock,
    passwords: createPasswordHasher(config.fastPasswordHashing),
  };
}

export async function closeContext(ctx: AppContext): Promise<void> {
  await ctx.db.close();
}
