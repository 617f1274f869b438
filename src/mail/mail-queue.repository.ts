import { type Kysely, sql, type Transaction } from 'kysely';
import type { DialectName } from '../db/database.js';
import { transaction } from '../db/direct-transaction.js';
import type { Database } from '../db/schema.js';
import type { SecretBox } from '../platform/secrets.js';
import { findUserById } from '../users/user.repository.js';
import type { UserRemovalHook } from '../users/user-removal.js';
import { mailError } from './mail.errors.js';
import type { MailQueueRow } from './mail.table.js';
import { sealBody } from './sealed-body.js';

type Q = Kysely<Database> | Transaction<Database>;

export interface QueuedMail {
  to: string;
  subject: string;
  text: string;
  /** the user sending it, if any: their address becomes From, and it must be verified */
  senderUserId?: number;
  /** the body carries a live credential (a reset or verification link): store it sealed with this box */
  sealWith?: SecretBox;
}

/**
 * Queue a message in the caller's transaction, so it exists exactly when the change commits. System mail
 * comes from `systemFrom`; user-sent mail only from a verified address.
 */
export async function enqueueMail(
  trx: Q,
  mail: QueuedMail,
  systemFrom: string,
  now: number,
): Promise<number> {
  let from = systemFrom;
  if (mail.senderUserId !== undefined) {
    const sender = await findUserById(trx, mail.senderUserId);
    if (!sender || sender.emailVerifiedAt === null) {
      throw mailError(
        'SENDER_UNVERIFIED',
        'Mail cannot be sent from an unverified email address. Verify it first.',
      );
    }
    from = sender.email;
  }
  const row = await trx
    .insertInto('mail_queue')
    .values({
      from_address: from,
      to_address: mail.to,
      subject: mail.subject,
      text_body: mail.sealWith ? sealBody(mail.sealWith, mail.text) : mail.text,
      sender_user_id: mail.senderUserId ?? null,
      status: 'pending',
      created_at: now,
      next_attempt_at: now,
      claimed_until: null,
      sent_at: null,
      last_error: null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** Claims due messages for this sender; PostgreSQL replicas skip each other's rows instead of waiting. */
export async function claimDueMail(
  db: Kysely<Database>,
  dialect: DialectName,
  now: number,
  claimMs: number,
  limit: number,
): Promise<MailQueueRow[]> {
  return transaction(db, async (trx) => {
    const due = await trx
      .selectFrom('mail_queue')
      .select('id')
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', now)]))
      .orderBy('id')
      .limit(limit)
      .$if(dialect === 'postgres', (q) => q.forUpdate().skipLocked())
      .execute();
    const ids = due.map((r) => r.id);
    if (ids.length === 0) return [];
    await trx
      .updateTable('mail_queue')
      .set({ claimed_until: now + claimMs, attempts: sql`attempts + 1` })
      .where('id', 'in', ids)
      .execute();
    return trx.selectFrom('mail_queue').selectAll().where('id', 'in', ids).orderBy('id').execute();
  });
}

export async function markMailSent(db: Q, id: number, now: number, keepBody: boolean): Promise<void> {
  await db
    .updateTable('mail_queue')
    .set({
      status: 'sent',
      sent_at: now,
      claimed_until: null,
      last_error: null,
      ...(keepBody ? {} : { text_body: '' }),
    })
    .where('id', '=', id)
    .execute();
}

export async function markMailFailed(
  db: Q,
  row: MailQueueRow,
  error: string,
  now: number,
  maxAttempts: number,
): Promise<void> {
  const giveUp = row.attempts >= maxAttempts;
  await db
    .updateTable('mail_queue')
    .set({
      status: giveUp ? 'failed' : 'pending',
      claimed_until: null,
      next_attempt_at: now + 30_000 * 2 ** row.attempts,
      last_error: error.slice(0, 300),
    })
    .where('id', '=', row.id)
    .execute();
}

/** A deleted user goes for good: mail they sent keeps its From address but no longer points at them. */
export const mailUserRemoval: UserRemovalHook = {
  feature: 'mail',
  async purged({ trx }, removal) {
    await trx
      .updateTable('mail_queue')
      .set({ sender_user_id: null })
      .where('sender_user_id', '=', removal.userId)
      .execute();
  },
};
