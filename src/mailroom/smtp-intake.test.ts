import net from 'node:net';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { describeEachDialect } from '../../test/harness.js';
import { addRule, clearRules, countRecords, eml, emlWith, webLeadRule } from '../../test/mailroom-kit.js';
import { ConfigError, parseConfig } from '../config.js';
import type { AppContext } from '../context.js';
import { baseAddress, SmtpIntake } from './smtp-intake.js';

const RECIPIENTS = ['crm@rapport.example', 'Sales@Rapport.Example'];

/** Delivers one raw message over SMTP, the way a mail server (MX or forwarding rule) hands it over. */
async function deliver(
  port: number,
  raw: Buffer,
  to: string[] = ['crm@rapport.example'],
  from = 'forms@acme-web.example',
) {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port,
    secure: false,
    ignoreTLS: true,
    connectionTimeout: 5000,
  });
  try {
    return await transport.sendMail({ envelope: { from, to }, raw });
  } finally {
    transport.close();
  }
}

async function refusal(p: Promise<unknown>): Promise<{ responseCode?: number; response?: string }> {
  try {
    await p;
  } catch (err) {
    return err as { responseCode?: number; response?: string };
  }
  throw new Error('the message was accepted');
}

describe('SMTP intake settings', () => {
  it('is off by default; on with a port and the accepted addresses', () => {
    expect(parseConfig({}).smtpIntake).toBeNull();
    expect(
      parseConfig({ SMTP_INTAKE_PORT: '2525', SMTP_INTAKE_RECIPIENTS: 'crm@a.example, Sales@B.example' })
        .smtpIntake,
    ).toEqual({
      port: 2525,
      host: '127.0.0.1',
      recipients: ['crm@a.example', 'sales@b.example'],
      maxConnections: 20,
    });
    expect(() => parseConfig({ SMTP_INTAKE_PORT: '2525' })).toThrow(ConfigError);
    expect(() => parseConfig({ SMTP_INTAKE_PORT: '2525', SMTP_INTAKE_RECIPIENTS: 'not-an-address' })).toThrow(
      /SMTP_INTAKE_RECIPIENTS/,
    );
  });

  it('accepts an address with any +tag, case-insensitively', () => {
    expect(baseAddress('Crm+Leads+2026@Rapport.Example')).toBe('crm@rapport.example');
    expect(baseAddress('crm@rapport.example')).toBe('crm@rapport.example');
  });
});

describeEachDialect('mailroom SMTP intake', (h) => {
  let intake: SmtpIntake;
  let port: number;
  beforeAll(async () => {
    intake = new SmtpIntake(h.ctx, {
      port: 0,
      host: '127.0.0.1',
      recipients: RECIPIENTS,
      maxConnections: 5,
      maxBytes: 64 * 1024,
    });
    await intake.start();
    port = intake.port()!;
  });
  afterAll(() => intake.stop());
  beforeEach(() => clearRules(h));

  const logRows = () => h.ctx.db.kysely.selectFrom('mailroom_messages').selectAll().orderBy('id').execute();

  it('turns a delivered web-form mail into a record by the rules, once however often it arrives', async () => {
    await addRule(h, webLeadRule('Web leads', { field: 'from', op: 'contains', value: 'acme-web.example' }));
    const leads = await countRecords(h, 'Leads');
    const rows = (await logRows()).length;
    const info = await deliver(port, eml('web-form.eml'));
    expect(info.response).toMatch(/^250 /);
    expect(info.accepted).toEqual(['crm@rapport.example']);
    expect(await countRecords(h, 'Leads')).toBe(leads + 1);
    const log = await logRows();
    expect(log).toHaveLength(rows + 1);
    const row = log.at(-1)!;
    expect(row).toMatchObject({ source_key: 'intake', status: 'processed', rule_name: 'Web leads' });
    const lead = (
      await h.request({ method: 'GET', url: `/api/v1/records/Leads/${row.record_id}`, as: h.admin })
    ).json();
    expect(lead).toMatchObject({ lastname: 'Doe', company: 'Doe Industries', email: 'jane.doe@example.org' });

    // the same message again, to a +tag address and a second accepted address: stored once, one record
    const again = await deliver(port, eml('web-form.eml'), [
      'crm+web@rapport.example',
      'sales@rapport.example',
    ]);
    expect(again.response).toMatch(/^250 .*already received/);
    expect(again.accepted).toEqual(['crm+web@rapport.example', 'sales@rapport.example']);
    expect(await countRecords(h, 'Leads')).toBe(leads + 1);
    expect(await logRows()).toHaveLength(rows + 1);
  });

  it('accepts crm+tag@ addresses', async () => {
    await addRule(h, { name: 'Contacts', action: 'create', module: 'Contacts' });
    const contacts = await countRecords(h, 'Contacts');
    const raw = emlWith('no-message-id.eml', {
      'Message-ID': '<smtp-tag-1@x>',
      From: 'Tag Person <tag.person@example.net>',
    });
    const info = await deliver(port, raw, ['CRM+Support@rapport.example']);
    expect(info.response).toMatch(/^250 /);
    expect(await countRecords(h, 'Contacts')).toBe(contacts + 1);
  });

  it('refuses an unknown recipient with 550 and stores nothing', async () => {
    await addRule(h, { name: 'Contacts', action: 'create', module: 'Contacts' });
    const rows = (await logRows()).length;
    const raw = emlWith('no-message-id.eml', { 'Message-ID': '<smtp-unknown-1@x>' });
    for (const to of ['someone@rapport.example', 'crm@other.example', 'xcrm@rapport.example']) {
      const err = await refusal(deliver(port, raw, [to]));
      expect(err.responseCode).toBe(550);
    }
    // a mix: the known recipient gets the message, the unknown one is refused
    const mixed = await deliver(port, raw, ['nobody@rapport.example', 'crm@rapport.example']);
    expect(mixed.rejected).toEqual(['nobody@rapport.example']);
    expect(await logRows()).toHaveLength(rows + 1);
  });

  it('skips a bounce or auto-reply sent with the null sender (loop protection), without a record', async () => {
    await addRule(h, { name: 'Contacts', action: 'create', module: 'Contacts' });
    const contacts = await countRecords(h, 'Contacts');
    const raw = emlWith('no-message-id.eml', {
      'Message-ID': '<smtp-bounce-1@x>',
      From: 'Mailer Daemon <mailer-daemon@elsewhere.example>',
    });
    const info = await deliver(port, raw, ['crm@rapport.example'], '');
    expect(info.response).toMatch(/^250 /);
    const row = (await logRows()).at(-1)!;
    expect(row).toMatchObject({ message_id: 'smtp-bounce-1@x', status: 'skipped' });
    expect(row.reason).toMatch(/Return-Path/);
    expect(await countRecords(h, 'Contacts')).toBe(contacts);
    // an auto-reply with a sender is skipped by its headers, as from any other source
    const auto = await deliver(port, eml('auto-reply.eml'));
    expect(auto.response).toMatch(/^250 /);
    expect((await logRows()).at(-1)).toMatchObject({ status: 'skipped' });
    expect(await countRecords(h, 'Contacts')).toBe(contacts);
  });

  it('refuses a message over the size limit with 552 and stores nothing', async () => {
    const rows = (await logRows()).length;
    const big = Buffer.concat([
      emlWith('no-message-id.eml', { 'Message-ID': '<smtp-big-1@x>' }),
      Buffer.from(`${'x'.repeat(76)}\r\n`.repeat(1000)),
    ]);
    const err = await refusal(deliver(port, big));
    expect(err.responseCode).toBe(552);
    expect(await logRows()).toHaveLength(rows);
    expect(h.allLogs()).toMatch(/over the size limit/);
  });

  it('answers 451 when the message cannot be stored, so the sender retries', async () => {
    const broken = {
      ...h.ctx,
      db: {
        ...h.ctx.db,
        kysely: {
          transaction: () => ({
            execute: async () => {
              throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
            },
          }),
        },
      },
    } as unknown as AppContext;
    const down = new SmtpIntake(broken, {
      port: 0,
      host: '127.0.0.1',
      recipients: RECIPIENTS,
      maxConnections: 5,
    });
    await down.start();
    try {
      const err = await refusal(
        deliver(down.port()!, emlWith('no-message-id.eml', { 'Message-ID': '<smtp-down-1@x>' })),
      );
      expect(err.responseCode).toBe(451);
    } finally {
      await down.stop();
    }
  });

  it('says clearly when its port is in use', async () => {
    const other = new SmtpIntake(h.ctx, {
      port,
      host: '127.0.0.1',
      recipients: RECIPIENTS,
      maxConnections: 1,
    });
    await expect(other.start()).rejects.toThrow(
      /cannot listen on 127\.0\.0\.1:\d+ \(SMTP_INTAKE_PORT\): the port is in use/,
    );
  });

  it('closes its port when stopped', async () => {
    const extra = new SmtpIntake(h.ctx, {
      port: 0,
      host: '127.0.0.1',
      recipients: RECIPIENTS,
      maxConnections: 1,
    });
    await extra.start();
    const p = extra.port()!;
    await extra.stop();
    const refused = await new Promise<boolean>((resolve) => {
      const s = net.connect(p, '127.0.0.1', () => {
        s.destroy();
        resolve(false);
      });
      s.on('error', () => resolve(true));
    });
    expect(refused).toBe(true);
  });
});
