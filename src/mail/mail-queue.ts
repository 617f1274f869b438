import type { Db } from '../db/database.js';
import { classifyDatabaseError } from '../db/db-errors.js';
import type { Clock } from '../platform/clock.js';
import type { Logger } from '../platform/logger.js';
import type { SecretBox } from '../platform/secrets.js';
import { claimDueMail, markMailFailed, markMailSent } from './mail-queue.repository.js';
import type { Mailer } from './mailer.js';
import { openBody } from './sealed-body.js';

const CLAIM_MS = 120_000;
const BATCH = 20;
const MAX_ATTEMPTS = 6;

/** Drains the `mail_queue` table through the mailer. Work lives in the table, so a crash loses nothing. */
export interface MailQueue {
  /** start draining in the background (after a commit that queued mail) */
  kick(): void;
  /** drain everything due now and resolve with the number of messages sent */
  drain(): Promise<number>;
  /** poll every `intervalMs` for mail left by a crash or due for retry */
  start(intervalMs?: number): void;
  stop(): Promise<void>;
}

export function createMailQueue(deps: {
  db: Db;
  mailer: Mailer;
  clock: Clock;
  logger: Logger;
  secrets?: SecretBox;
}): MailQueue {
  const { db, mailer, clock, logger, secrets } = deps;
  let chain: Promise<number> = Promise.resolve(0);
  let timer: NodeJS.Timeout | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let failures = 0;
  let stopped = false;

  async function drainAll(): Promise<number> {
    let sent = 0;
    for (;;) {
      const batch = await claimDueMail(db.kysely, db.dialect, clock.now(), CLAIM_MS, BATCH);
      if (batch.length === 0) return sent;
      for (const row of batch) {
        if (
          row.sender_user_id !== null &&
          !(await senderStillVerified(row.sender_user_id, row.from_address))
        ) {
          await markMailFailed(
            db.kysely,
            { ...row, attempts: MAX_ATTEMPTS },
            'sender address is not verified',
            clock.now(),
            MAX_ATTEMPTS,
          );
          continue;
        }
        try {
          await mailer.send({
            from: row.from_address,
            to: row.to_address,
            subject: row.subject,
            text: openBody(secrets, row.text_body),
          });
          await markMailSent(db.kysely, row.id, clock.now(), false);
          sent++;
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          logger.warn(
            { mailId: row.id, attempts: row.attempts },
            `mail delivery failed: ${message.slice(0, 200)}`,
          );
          await markMailFailed(db.kysely, row, message, clock.now(), MAX_ATTEMPTS);
        }
      }
    }
  }

  async function senderStillVerified(userId: number, from: string): Promise<boolean> {
    const u = await db.kysely
      .selectFrom('users')
      .select(['email', 'email_verified_at', 'deleted_at'])
      .where('id', '=', userId)
      .executeTakeFirst();
    return !!u && u.deleted_at === null && u.email_verified_at !== null && u.email === from;
  }

  /**
   * While the database is away, draining fails: log it once, retry with a growing delay (1 s … 60 s) on
   * top of the regular poll, and say when sending resumes. Mail waits in its table meanwhile.
   */
  function run(): Promise<number> {
    chain = chain.then(drainAll).then(
      (sent) => {
        if (failures > 0) logger.info({ afterFailures: failures }, 'mail queue resumed');
        failures = 0;
        return sent;
      },
      (err) => {
        failures++;
        const unavailable = classifyDatabaseError(err)?.kind === 'unavailable';
        if (!unavailable) logger.error({ err }, 'mail queue drain failed');
        else if (failures === 1)
          logger.warn(`mail queue paused: the database is unavailable (${(err as Error).message})`);
        scheduleRetry();
        return 0;
      },
    );
    return chain;
  }

  function scheduleRetry(): void {
    if (stopped || retryTimer) return;
    const delay = Math.min(60_000, 1000 * 2 ** Math.min(failures - 1, 6));
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void run();
    }, delay);
    retryTimer.unref();
  }

  return {
    kick: () => void run(),
    drain: run,
    start: (intervalMs = 15_000) => {
      timer = setInterval(() => void run(), intervalMs);
      timer.unref();
    },
    stop: async () => {
      stopped = true;
      if (timer) clearInterval(timer);
      if (retryTimer) clearTimeout(retryTimer);
      await chain;
      await mailer.close();
    },
  };
}
