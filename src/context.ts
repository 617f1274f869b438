import fs from 'node:fs';
import path from 'node:path';
import { accessKeysUserRemoval } from './access-keys/access-key.service.js';
import { AuthCache } from './access-keys/auth-cache.js';
import { AuthEvents } from './access-keys/auth-events.js';
import { KeyLimits } from './access-keys/key-limits.js';
import { KeyUsageRecorder } from './access-keys/key-usage.recorder.js';
import { loadCommonPasswords } from './auth/common-passwords.js';
import { createPasswordHasher, type PasswordHasher } from './auth/password.js';
import { authUserRemoval } from './auth/session.repository.js';
import { type Config, ConfigError } from './config.js';
import { type Db, openDatabase } from './db/database.js';
import { type DialectMigration, migrateToLatest } from './db/migrate.js';
import { EventBus } from './events/event-bus.js';
import { createMailQueue, type MailQueue } from './mail/mail-queue.js';
import { mailUserRemoval } from './mail/mail-queue.repository.js';
import { createOutboxMailer, createSmtpMailer, type Mailer } from './mail/mailer.js';
import { mailroomUserRemoval } from './mailroom/mailroom.rules.js';
import { mailroomEventSubscriber } from './mailroom/mailroom.service.js';
import { type Clock, systemClock } from './platform/clock.js';
import { LoadGauge } from './platform/load-gauge.js';
import { createConsoleLogger, type Logger } from './platform/logger.js';
import { verifyMasterKey } from './platform/master-key-check.js';
import { createSecretBox, loadMasterKey, MASTER_KEY_FILE, type SecretBox } from './platform/secrets.js';
import { recordsUserRemoval } from './records/record-ownership.js';
import { searchIndexer } from './records/record-search-index.js';
import { reportUserRemoval } from './reports/report.service.js';
import { settingsUserRemoval } from './settings/settings.repository.js';
import { setupChecklistUserRemoval } from './setup-checklist/setup-checklist.user-removal.js';
import type { UserRemovalHook } from './users/user-removal.js';
import { webhooksUserRemoval } from './webhooks/webhook.service.js';
import { webhookFanOut } from './webhooks/webhook-fanout.js';
import { WebhookHttp } from './webhooks/webhook-http.js';
import { createWebhookSender, type WebhookSender } from './webhooks/webhook-sender.js';
import { TargetPolicy } from './webhooks/webhook-target.js';

/** Everything a request handler or job may use, built once at start and passed explicitly. */
export interface AppContext {
  config: Config;
  db: Db;
  logger: Logger;
  clock: Clock;
  passwords: PasswordHasher;
  /** encryption and keyed digests for secrets at rest (access keys) */
  secrets: SecretBox;
  keyUsage: KeyUsageRecorder;
  keyLimits: KeyLimits;
  authCache: AuthCache;
  /** PostgreSQL LISTEN/NOTIFY: tells other replicas to drop cached auth or to refuse an address */
  authEvents: AuthEvents;
  /** lower-cased common passwords that the password policy refuses */
  commonPasswords: ReadonlySet<string>;
  /** outgoing mail transport; mail is queued with `enqueueMail` and sent by `mailQueue` */
  mailer: Mailer;
  mailQueue: MailQueue;
  /** domain events: features subscribe at start; units of work hand them every event they write */
  events: EventBus;
  /** which webhook targets may be called (SSRF policy with the WEBHOOK_ALLOWED_HOSTS allowlist) */
  webhookPolicy: TargetPolicy;
  /** delivers the webhook outbox; woken after commits that queued deliveries, and polling */
  webhookSender: WebhookSender;
  /** whether requests saturate this process now (background work gives way); sampled while serving */
  load: LoadGauge;
  /** each feature's part of deleting a user (move what they own, end sessions and keys, rewrite references) */
  userRemovalHooks: UserRemovalHook[];
}

export interface ContextOverrides {
  db?: Db;
  logger?: Logger;
  clock?: Clock;
  mailer?: Mailer;
  /** the migrations to apply (tests add one the way a developer would) */
  migrations?: Readonly<Record<string, DialectMigration>>;
}

export async function createContext(config: Config, overrides: ContextOverrides = {}): Promise<AppContext> {
  const logger = overrides.logger ?? createConsoleLogger(config);
  if (config.database.kind === 'sqlite') fs.mkdirSync(config.dataDir, { recursive: true });
  const db = overrides.db ?? openDatabase(config.database, { warn: (message) => logger.warn(message) });
  db.onConnectionError((err) =>
    logger.warn(`database connection lost: ${err.message} (the pool reconnects on demand)`),
  );
  await migrateToLatest(db, overrides.migrations);
  const clock = overrides.clock ?? systemClock;
  const master = loadMasterKey(config.secretKeyHex, config.dataDir);
  const secrets = createSecretBox(master.key);
  if ((await verifyMasterKey(db, secrets, clock.now())) === 'mismatch') {
    if (!overrides.db) await db.close();
    if (master.source === 'generated') fs.rmSync(path.join(config.dataDir, MASTER_KEY_FILE));
    throw new ConfigError(
      master.source === 'env'
        ? 'RAPPORT_SECRET_KEY is not the master key this database was set up with: secrets stored in it ' +
            '(access keys) cannot be read. Set RAPPORT_SECRET_KEY to the key every other replica uses.'
        : `RAPPORT_SECRET_KEY is not set and ${config.dataDir}/secret.key is not the master key this ` +
            'database was set up with. Set RAPPORT_SECRET_KEY to the key the other replicas use, or ' +
            'restore the secret.key that belongs to this database.',
    );
  }
  if (master.source === 'generated') {
    logger.info(
      { file: 'DATA_DIR/secret.key' },
      'generated the master key for secrets at rest; back it up with the data',
    );
  }
  if (master.source !== 'env' && config.database.kind === 'postgres') {
    logger.warn(
      'RAPPORT_SECRET_KEY is not set: replicas sharing this PostgreSQL must all use the same DATA_DIR/secret.key',
    );
  }
  const keyUsage = new KeyUsageRecorder(db.kysely, clock, logger, config.accessKeys.usageFlushMs);
  keyUsage.start();
  const { perMinute, maxFailuresPerIp, failureWindowMs } = config.accessKeys;
  const mailer =
    overrides.mailer ??
    (config.mail.smtpUrl ? createSmtpMailer(config.mail.smtpUrl) : createOutboxMailer(db, clock, secrets));
  const mailQueue = createMailQueue({ db, mailer, clock, logger, secrets });
  const webhookPolicy = new TargetPolicy(config.webhooks.allowedHosts);
  const load = new LoadGauge();
  const events = new EventBus();
  events.subscribe(mailroomEventSubscriber);
  const authCache = new AuthCache(clock, config.authCacheTtlMs);
  const keyLimits = new KeyLimits(perMinute, maxFailuresPerIp, failureWindowMs);
  const authEvents = new AuthEvents(
    db,
    logger,
    (event) => {
      if (event.kind === 'clear') {
        authCache.clear();
        // a clear also follows another replica's custom field (a new column): statements prepare afresh
        db.schemaChanged?.();
      } else keyLimits.block(event.ip, event.until, clock.now());
    },
    config.authCacheListen,
    config.authCacheTtlMs > 0
      ? {
          everyMs: config.authVersionPollMs,
          clock,
          changed: () => authCache.clear(),
          confirmed: (at) => authCache.confirm(at),
        }
      : undefined,
  );
  await authEvents.start();
  const webhookSender = createWebhookSender({
    db,
    clock,
    logger,
    secrets,
    http: new WebhookHttp(webhookPolicy, config.webhooks.timeoutMs),
    timeoutMs: config.webhooks.timeoutMs,
    mailFrom: config.mail.from,
    mailKick: () => mailQueue.kick(),
    auto: config.webhooks.sender,
    retentionMs: config.webhooks.retentionMs,
    busy: () => load.busy,
    busyRate: config.webhooks.busyRate,
    webhooksChanged: {
      announce: (trx) => authEvents.publish(trx, { kind: 'clear' }),
      clear: (authVersion) => {
        authCache.clear();
        if (authVersion !== undefined) authEvents.committedHere(authVersion);
      },
    },
  });
  const ctx: AppContext = {
    config,
    db,
    logger,
    clock,
    passwords: createPasswordHasher(config.fastPasswordHashing),
    secrets,
    keyUsage,
    keyLimits,
    authCache,
    authEvents,
    commonPasswords: loadCommonPasswords(),
    mailer,
    mailQueue,
    events,
    webhookPolicy,
    webhookSender,
    load,
    userRemovalHooks: [
      recordsUserRemoval,
      accessKeysUserRemoval,
      authUserRemoval,
      settingsUserRemoval,
      setupChecklistUserRemoval,
      mailUserRemoval,
      webhooksUserRemoval,
      reportUserRemoval,
      mailroomUserRemoval,
    ],
  };
  // the search index follows every record change in its transaction
  ctx.events.subscribe(searchIndexer(ctx));
  ctx.events.subscribe(webhookFanOut(ctx));
  return ctx;
}

export async function closeContext(ctx: AppContext): Promise<void> {
  ctx.load.stop();
  await ctx.authEvents.stop();
  await ctx.keyUsage.stop();
  await ctx.webhookSender.stop();
  await ctx.mailQueue.stop();
  await ctx.db.close();
}
