import os from 'node:os';
import type { SMTPServer, SMTPServerAddress, SMTPServerDataStream } from 'smtp-server';
import type { AppContext } from '../context.js';
import { DEFAULT_MAX_MESSAGE_BYTES, receiveMessage } from './mailroom.service.js';

export interface SmtpIntakeOptions {
  port: number;
  host: string;
  /** accepted addresses, `local@domain`; `local+anything@domain` is accepted too */
  recipients: string[];
  maxConnections: number;
  /** the mailroom's message size limit (advertised as SIZE; larger messages get 552) */
  maxBytes?: number;
}

/** An SMTP reply code on an error: smtp-server answers with `responseCode` and the message. */
function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

/**
 * A message sent with the null sender (`MAIL FROM:<>`: a bounce or an auto-reply) gets the `Return-Path: <>`
 * the final delivery server adds (RFC 5321 4.4), so the mailroom's loop filter sees it as it would in an
 * IMAP mailbox. Other messages are stored byte for byte (their dedup hash must not depend on the route).
 */
export function withNullReturnPath(raw: Buffer, nullSender: boolean): Buffer {
  if (!nullSender) return raw;
  const text = raw.toString('latin1');
  const end = text.search(/\r?\n\r?\n/);
  const head = end === -1 ? text : text.slice(0, end);
  if (/^return-path:/im.test(head)) return raw;
  return Buffer.concat([Buffer.from('Return-Path: <>\r\n'), raw]);
}

/** `Crm+Leads@Example.com` → `crm@example.com`: the address without its +tag, lower-cased. */
export function baseAddress(address: string): string {
  const at = address.lastIndexOf('@');
  if (at < 1) return address.toLowerCase();
  const local = address.slice(0, at);
  const plus = local.indexOf('+');
  return `${plus > 0 ? local.slice(0, plus) : local}@${address.slice(at + 1)}`.toLowerCase();
}

/**
 * The built-in SMTP intake: a domain's MX or a forwarding rule delivers to `crm@…` / `crm+tag@…`, and each
 * message goes through the same pipeline as `POST /api/v1/mailroom/messages` (source `intake`, so a message
 * arriving both ways is one message). No AUTH and no relaying: only the configured recipients are accepted
 * (others get 550). The final 250 is sent only after the message is stored in the database; a failure to
 * store answers 451, so the sending server keeps the message and retries.
 */
export class SmtpIntake {
  private server: SMTPServer | null = null;
  private readonly accepted: Set<string>;
  private readonly maxBytes: number;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly ctx: AppContext,
    private readonly options: SmtpIntakeOptions,
  ) {
    this.accepted = new Set(options.recipients.map((r) => r.trim().toLowerCase()));
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  }

  /** The port it listens on (the chosen one when started with port 0). */
  port(): number | null {
    const addr = this.server?.server.address();
    return addr && typeof addr === 'object' ? addr.port : null;
  }

  accepts(address: string): boolean {
    return this.accepted.has(baseAddress(address));
  }

  /** Starts listening; rejects with a clear message when the port cannot be used (in use, no permission). */
  async start(): Promise<void> {
    const { ctx } = this;
    // imported here, not at the top: the server bundle hoists a top-level import of this module's packages,
    // so every start would load smtp-server (~30 ms) whether or not the intake is switched on
    const { SMTPServer } = await import('smtp-server');
    const server = new SMTPServer({
      name: os.hostname(),
      banner: 'Rapport mailroom intake',
      size: this.maxBytes,
      maxClients: this.options.maxConnections,
      disabledCommands: ['AUTH', 'STARTTLS'],
      authOptional: true,
      hideSTARTTLS: true,
      logger: false,
      socketTimeout: 60_000,
      closeTimeout: 5_000,
      onRcptTo: (address: SMTPServerAddress, _session, callback) => {
        if (this.accepts(address.address)) return callback();
        callback(smtpError(550, `5.1.1 <${address.address}>: no such mailbox here`));
      },
      onData: (stream, session, callback) => {
        const from = session.envelope.mailFrom;
        const nullSender = !from || from.address === '';
        const work = this.receive(stream, session.envelope.rcptTo.length, nullSender).then(
          (reply) => callback(null, reply),
          (err: Error) => callback(err),
        );
        this.inFlight.add(work);
        void work.finally(() => this.inFlight.delete(work));
      },
    });
    server.on('error', (err: Error & { code?: string }) => {
      ctx.logger.error(
        { err: { message: err.message, code: err.code } },
        `mailroom SMTP intake: ${err.message}`,
      );
    });
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error & { code?: string }) => {
        const what =
          err.code === 'EADDRINUSE'
            ? 'the port is in use by another program'
            : err.code === 'EACCES'
              ? 'no permission to use the port (ports below 1024 need privileges)'
              : err.message;
        reject(
          new Error(
            `the SMTP intake cannot listen on ${this.options.host}:${this.options.port} (SMTP_INTAKE_PORT): ${what}`,
          ),
        );
      };
      server.server.once('error', onError);
      server.listen(this.options.port, this.options.host, () => {
        server.server.off('error', onError);
        resolve();
      });
    });
    this.server = server;
    ctx.logger.info(
      { host: this.options.host, port: this.port(), recipients: [...this.accepted] },
      `mailroom SMTP intake is listening on ${this.options.host}:${this.port()}`,
    );
  }

  private async receive(
    stream: SMTPServerDataStream,
    recipients: number,
    nullSender: boolean,
  ): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.length;
      // past the limit the rest is read and dropped; smtp-server answers 552 when sizeExceeded is set
      if (size <= this.maxBytes) chunks.push(chunk);
    }
    if (stream.sizeExceeded || size > this.maxBytes) {
      this.ctx.logger.warn(
        { size, limit: this.maxBytes },
        'mailroom SMTP intake: refused a message over the size limit (552)',
      );
      throw smtpError(552, `5.3.4 the message is over the mailroom's limit of ${this.maxBytes} bytes`);
    }
    const raw = withNullReturnPath(Buffer.concat(chunks, size), nullSender);
    let result: Awaited<ReturnType<typeof receiveMessage>>;
    try {
      result = await receiveMessage(this.ctx, raw, { key: 'intake' }, this.maxBytes);
    } catch (err) {
      this.ctx.logger.warn(
        { err: { message: (err as Error).message } },
        'mailroom SMTP intake: could not store a message; answered 451 so the sender retries',
      );
      throw smtpError(451, '4.3.0 temporary failure storing the message; try again later');
    }
    return `2.0.0 stored as mailroom message ${result.id}${result.duplicate ? ' (a copy already received)' : ''} for ${recipients} recipient${recipients === 1 ? '' : 's'}`;
  }

  /** Stops accepting connections and waits (a few seconds at most) for messages being stored. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await Promise.allSettled([...this.inFlight]);
  }
}
