import fs from 'node:fs';
import path from 'node:path';
import { expectStatus, type Harness, type Session } from './harness.js';

const FIXTURES = path.join(import.meta.dirname, 'fixtures', 'mailroom');

export function eml(name: string): Buffer {
  return fs.readFileSync(path.join(FIXTURES, name));
}

/** A fixture with its Message-ID (and optionally more headers) replaced, so a test gets a fresh message. */
export function emlWith(name: string, replace: Record<string, string>): Buffer {
  let text = eml(name).toString('latin1');
  for (const [header, value] of Object.entries(replace)) {
    const re = new RegExp(`^${header}:.*$`, 'mi');
    text = re.test(text) ? text.replace(re, `${header}: ${value}`) : `${header}: ${value}\r\n${text}`;
  }
  return Buffer.from(text, 'latin1');
}

export interface Intake {
  id: number;
  status: string;
  recordId: number | null;
  duplicate: boolean;
}

export async function postMessage(h: Harness, raw: Buffer, as: Session = h.admin): Promise<Intake> {
  const res = await h.request({
    method: 'POST',
    url: '/api/v1/mailroom/messages',
    as,
    headers: { 'content-type': 'message/rfc822' },
    payload: raw,
  });
  expectStatus(res, 200);
  return res.json();
}

export async function addRule(h: Harness, rule: Record<string, unknown>): Promise<{ id: number }> {
  const res = await h.request({
    method: 'POST',
    url: '/api/v1/mailroom/rules',
    as: h.admin,
    payload: { assignedUserId: h.admin.userId, ...rule },
  });
  expectStatus(res, 201);
  return res.json();
}

/**
 * A rule that makes a Lead of a web-form mail, autofilling Last Name, Company and Email (then `extra`), for
 * the mails matching `condition`.
 */
export function webLeadRule(
  name: string,
  condition: { field: string; op: string; value: string },
  extra: Array<{ label: string; field: string }> = [],
): Record<string, unknown> {
  return {
    name,
    conditions: [condition],
    action: 'create',
    module: 'Leads',
    autofill: {
      delimiter: ':',
      mappings: [
        { label: 'Last Name', field: 'lastname' },
        { label: 'Company', field: 'company' },
        { label: 'Email', field: 'email' },
        ...extra,
      ],
    },
  };
}

export async function clearRules(h: Harness): Promise<void> {
  await h.ctx.db.kysely.deleteFrom('mailroom_rules').execute();
}

export async function logEntry(h: Harness, id: number) {
  const res = await h.request({ method: 'GET', url: `/api/v1/mailroom/messages/${id}`, as: h.admin });
  expectStatus(res, 200);
  return res.json();
}

export async function countRecords(h: Harness, module: string): Promise<number> {
  const rows = await h.ctx.db.kysely
    .selectFrom('crm_entities')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('module', '=', module)
    .where('deleted_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(rows.n);
}
