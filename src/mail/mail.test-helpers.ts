import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import type { Harness } from '../../test/harness.js';

export interface OutboxMail {
  id: number;
  from: string;
  to: string;
  subject: string;
  text: string;
}

/** Sends queued mail, then returns the outbox for `to`, newest first. */
export async function outboxFor(h: Harness, to: string): Promise<OutboxMail[]> {
  await h.ctx.mailQueue.drain();
  const res = await h.request({
    method: 'GET',
    url: `/api/v1/mail/outbox?to=${encodeURIComponent(to)}`,
    as: h.admin,
  });
  if (res.statusCode !== 200) throw new Error(`outbox: ${res.statusCode} ${res.body}`);
  return (res.json() as { items: OutboxMail[] }).items;
}

/** The token of the newest link (`?token=`) mailed to `to`. */
export async function lastTokenFor(h: Harness, to: string): Promise<string> {
  const [mail] = await outboxFor(h, to);
  const m = mail?.text.match(/[?&]token=([A-Za-z0-9_%-]+)/);
  if (!m) throw new Error(`no link mailed to ${to}`);
  return decodeURIComponent(m[1]!);
}

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
}

/** A real SMTP server on a free loopback port that keeps what it receives. */
export async function startSmtpServer(): Promise<{
  url: string;
  received: ReceivedMail[];
  close(): Promise<void>;
}> {
  const received: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
