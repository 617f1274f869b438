import type { Transporter } from 'nodemailer';
import type { Db } from '../db/database.js';
import type { Clock } from '../platform/clock.js';
import type { SecretBox } from '../platform/secrets.js';
import { sealBody } from './sealed-body.js';

/** The header on Rapport's own outgoing mail, so the mailroom never turns it back into records. */
export const RAPPORT_MAIL_HEADER = 'x-rapport-mail';

export interface MailMessage {
  from: string;
  to: string;
  subject: string;
  text: string;
}

/** Delivers one message or throws; retries and bookkeeping belong to the mail queue. */
export interface Mailer {
  readonly kind: 'smtp' | 'outbox' | 'memory';
  send(message: MailMessage): Promise<void>;
  close(): Promise<void>;
}

export function createSmtpMailer(smtpUrl: string): Mailer {
  // nodemailer is loaded with the first message (most servers send none for hours after starting)
  let transport: Promise<Transporter> | null = null;
  const open = () => {
    transport ??= import('nodemailer').then((n) => n.default.createTransport(smtpUrl));
    return transport;
  };
  return {
    kind: 'smtp',
    send: async (m) => {
      await (await open()).sendMail({
        from: m.from,
        to: m.to,
        subject: m.subject,
        text: m.text,
        // RFC 3834: system mail, not to be answered by auto-responders; the mailroom skips it if it comes back
        headers: { 'Auto-Submitted': 'auto-generated', [RAPPORT_MAIL_HEADER]: 'system' },
      });
    },
    close: async () => {
      if (transport) (await transport).close();
    },
  };
}

/** The embedded default: a fresh install works without a mail server; admins read `GET /api/v1/mail/outbox`. */
export function createOutboxMailer(db: Db, clock: Clock, secrets?: SecretBox): Mailer {
  return {
    kind: 'outbox',
    send: async (m) => {
      await db.kysely
        .insertInto('mail_outbox')
        .values({
          from_address: m.from,
          to_address: m.to,
          subject: m.subject,
          // links in it are live: sealed at rest like the queue's (sealed-body.ts)
          text_body: secrets ? sealBody(secrets, m.text) : m.text,
          created_at: clock.now(),
        })
        .execute();
    },
    close: async () => {},
  };
}

/** For tests: keeps what was sent, and can be told to fail. */
export class MemoryMailer implements Mailer {
  readonly kind = 'memory';
  readonly sent: MailMessage[] = [];
  failNext = 0;
  async send(m: MailMessage): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('simulated delivery failure');
    }
    this.sent.push(m);
  }
  async close(): Promise<void> {}
}
