import { ensureKeysForAllUsers } from './access-keys/access-key.service.js';
import { startBanner } from './cli/banner.js';
import type { Config } from './config.js';
import { closeContext, createContext } from './context.js';
import { startEventPruning } from './events/event-retention.js';
import { buildApp } from './http/app.js';
import { MailroomRunner } from './mailroom/mailbox.service.js';
import { isReadableConsole } from './platform/logger.js';
import { RAPPORT_VERSION } from './platform/version.js';
import { rebuildSearchIndexIfStale } from './records/record-search-index.js';
import { startReportSchedules } from './reports/report-schedule.service.js';
import { ensureInitialAdmin } from './users/bootstrap.js';

/** Start Rapport: migrate, make sure an admin exists, listen, and shut down cleanly on SIGTERM/SIGINT. */
export async function serve(config: Config): Promise<void> {
  const ctx = await createContext(config);
  const boot = await ensureInitialAdmin(ctx);
  if (boot.created && !boot.generatedPassword) {
    ctx.logger.info(
      'created the administrator account "admin" with the password from RAPPORT_ADMIN_PASSWORD',
    );
  }
  const generated = await ensureKeysForAllUsers(ctx);
  if (generated > 0) ctx.logger.info({ users: generated }, 'generated access keys for users who had none');
  const app = await buildApp(ctx);
  // the SMTP intake (off unless SMTP_INTAKE_PORT is set) listens before the HTTP port, so a port it cannot
  // use stops the start with a clear message instead of a server that silently takes no mail
  // loaded only when switched on (SMTP_INTAKE_PORT), like the other mail libraries
  const smtpIntake = config.smtpIntake
    ? new (await import('./mailroom/smtp-intake.js')).SmtpIntake(ctx, config.smtpIntake)
    : null;
  if (smtpIntake) {
    try {
      await smtpIntake.start();
    } catch (err) {
      ctx.logger.error((err as Error).message);
      await closeContext(ctx);
      throw err;
    }
  }
  await app.listen({ port: config.port, host: config.host });
  const address = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;
  ctx.logger.info(
    { address, version: RAPPORT_VERSION },
    `Rapport ${RAPPORT_VERSION} is listening on ${address}`,
  );
  process.stdout.write(
    startBanner({
      address,
      readable: isReadableConsole(config.logFormat),
      generatedPassword: boot.generatedPassword,
    }),
  );
  ctx.load.start();
  ctx.db.startBackgroundWork?.();
  ctx.mailQueue.start();
  ctx.mailQueue.kick();
  if (config.webhooks.sender) {
    ctx.webhookSender.start();
    ctx.webhookSender.kick();
  }
  const stopPruning = startEventPruning(ctx);
  // after an upgrade that changed the search index: rebuild it in the background (searches meanwhile find
  // what is indexed so far)
  void rebuildSearchIndexIfStale(ctx).then(
    (n) => n > 0 && ctx.logger.info({ records: n }, 'search index rebuilt'),
    (err) => ctx.logger.error({ err }, 'search index rebuild failed; it is retried at the next start'),
  );
  const mailroom = new MailroomRunner(ctx);
  mailroom.start();
  const stopSchedules = startReportSchedules(ctx);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    ctx.logger.info({ signal }, 'shutting down: finishing in-flight requests');
    const timer = setTimeout(() => {
      ctx.logger.error('shutdown took longer than 10 s; exiting');
      process.exit(1);
    }, 10_000);
    timer.unref();
    await Promise.all([app.close(), smtpIntake?.stop()]);
    stopPruning();
    await mailroom.stop();
    stopSchedules();
    await closeContext(ctx);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}
