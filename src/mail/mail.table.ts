import type { Generated, Selectable } from 'kysely';

/** Mail waiting to be sent: written in the transaction of the change, drained after commit. */
export interface MailQueueTable {
  id: Generated<number>;
  from_address: string;
  to_address: string;
  subject: string;
  /** cleared once sent over SMTP, so reset links do not linger in the database */
  text_body: string;
  /** set when a user is the sender; their address must be verified */
  sender_user_id: number | null;
  status: 'pending' | 'sent' | 'failed';
  attempts: Generated<number>;
  created_at: number;
  next_attempt_at: number;
  /** a sender owns the row until then; after a crash another sender may take it */
  claimed_until: number | null;
  sent_at: number | null;
  last_error: string | null;
}

/** Where mail goes when no SMTP server is configured; admins read it through the API. */
export interface MailOutboxTable {
  id: Generated<number>;
  from_address: string;
  to_address: string;
  subject: string;
  text_body: string;
  created_at: number;
}

export type MailQueueRow = Selectable<MailQueueTable>;
export type MailOutboxRow = Selectable<MailOutboxTable>;
