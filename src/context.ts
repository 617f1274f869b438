import fs from 'node:fs';
import { loadCommonPasswords } from './auth/common-passwords.js';
import { createPasswordHasher, type PasswordHasher } from './auth/password.js';
import type { Config } from './config.js';
import { type Db, openDatabase } from './db/database.js';
import { migrateToLatest } from './db/migrate.js';
import { createMailQueue, type MailQueue } from './mail/mail-queue.js';
import { createOutboxMailer, createSmtpMailer, type Mailer } from './mail/mailer.js';
import { type Clock, systemClock } from './platform/clock.js';
import { createLogger, type Logger } from './platform/logger.js';
import type { OwnershipTransfer, UserRemovalHook } from './users/ownership-transfer.js';

/** Everything a request handler or job may use, built once at start and passed explicitly. */
export interface AppContext {
  config: Config;
  db: Db;
  logger: Logger;
  clock: Clock;
  passwords: PasswordHasher;
  /** lower-cased common passwords that the password policy refuses */
  commonPasswords: ReadonlySet<string>;
  /** outgoing mail transport; mail is queued with `enqueueMail` and sent by `mailQueue` */
  mailer: Mailer;
  mailQueue: MailQueue;
  /** run, in one transaction, when a user is deleted: each moves what the user owns to the receiving user */
  ownershipTransfers: OwnershipTransfer[];
  /** run before a permanent delete: rewrite created-by style references to the receiving user */
  creatorRewrites: OwnershipTransfer[];
  /** run when a user is deleted: destroy per-user secrets such as the access key */
  userRemovalHooks: UserRemovalHook[];
}

export interface ContextOverrides {
  db?: Db;
  logger?: Logger;
  clock?: Clock;
  mailer?: Mailer;
}

export async function createContext(config: Config, overrides: ContextOverrides = {}): Promise<AppContext> {
  const logger = overrides.logger ?? createLogger(config.logLevel);
  if (config.database.kind === 'sqlite') fs.mkdirSync(config.dataDir, { recursive: true });
  const db = overrides.db ?? openDatabase(config.database);
  await migrateToLatest(db);
  const clock = overrides.clock ?? systemClock;
  const mailer =
    overrides.mailer ??
    (config.mail.smtpUrl ? createSmtpMailer(config.mail.smtpUrl) : createOutboxMailer(db, clock));
  return {
    config,
    db,
    logger,
    clock,
    passwords: createPasswordHasher(config.fastPasswordHashing),
    commonPasswords: loadCommonPasswords(),
    mailer,
    mailQueue: createMailQueue({ db, mailer, clock, logger }),
    ownershipTransfers: [],
    creatorRewrites: [],
    userRemovalHooks: [],
  };
}

export async function closeContext(ctx: AppContext): Promise<void> {
  await ctx.mailQueue.stop();
  await ctx.db.close();
}
