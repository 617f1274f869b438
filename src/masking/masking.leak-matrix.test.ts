import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  describeEachDialect,
  errorCode,
  expectStatus,
  type Harness,
  type Session,
} from '../../test/harness.js';
import { addRule, postMessage } from '../../test/mailroom-kit.js';
import { WebhookReceiver } from '../../test/webhook-receiver.js';
import { WsKit, type WsResponse } from '../../test/ws-kit.js';
import { parseConfig } from '../config.js';
import { outboxFor } from '../mail/mail.test-helpers.js';
import { runDueSchedules } from '../reports/report-schedule.service.js';

/**
 * The leak matrix (issue 10): every channel that carries record data × every kind of viewer, on both
 * databases. Each channel is one entry of CHANNELS (a function returning what the viewer saw of the
 * record); adding a channel is one more entry, and for a REST read one line (`restItem(url, pick)`).
 */

const RAW = {
  phone: '+1 555-123-4567',
  email: 'jane.doe@example.com',
  title: 'Chief Financial Officer',
  lastname: 'Doe-Whitfield',
  firstname: 'Jane',
};
const MASKED = {
  phone: '+* ***-***-4567',
  email: 'j***@example.com',
  title: 'Ch******',
  lastname: '******',
};
type MaskedField = keyof typeof MASKED;
const FIELDS = Object.keys(MASKED) as MaskedField[];

/** Rules: phone for everyone; email for Sales Manager and below; title for Support Manager only; lastname for Support Agent. */
const VIEWERS: Record<string, { role: string; masked: MaskedField[]; admin?: boolean; unmask?: boolean }> = {
  'admin without Unmask (module-level rule)': { role: 'CEO', masked: ['phone'], admin: true },
  'role listed (Sales Manager)': { role: 'Sales Manager', masked: ['phone', 'email'] },
  'subordinate role, subordinates included (Sales Person)': {
    role: 'Sales Person',
    masked: ['phone', 'email'],
  },
  'role listed without subordinates (Support Manager)': {
    role: 'Support Manager',
    masked: ['phone', 'title'],
  },
  'subordinate role not included, role not listed (Support Agent)': {
    role: 'Support Agent',
    masked: ['phone', 'lastname'],
  },
  'user with Unmask (still masked until a reveal)': {
    role: 'Sales Lead',
    masked: ['phone', 'email'],
    unmask: true,
  },
};

interface Viewer {
  name: string;
  id: number;
  username: string;
  email: string;
  admin: boolean;
  session: Session;
  ws: string;
  masked: MaskedField[];
}
interface Fixture {
  h: Harness;
  ws: WsKit;
  contactId: number;
  accountId: number;
  tag: string;
  /** per viewer, a copy of the contact they own (sync returns the caller's own records) */
  owned: Map<number, number>;
  /** receives every viewer's webhook at /v<user id> */
  rx: WebhookReceiver;
  /** a public report of the contact (owned by the admin, scheduled to every viewer) */
  reportId: number;
  scheduleId: number;
  /** the scheduled report's mails, sent once for all viewers */
  mailed?: Promise<void>;
}
interface Seen {
  /** the values the channel showed, by field; null when it carries no values at all (the audit log) */
  fields: Record<string, unknown> | null;
  /** the fields the channel shows, when not every one (global search shows only what matched) */
  carries?: readonly MaskedField[];
  label?: string;
  /** everything the channel sent, for the substring check */
  body: string;
}

const wsOk = (res: WsResponse) => {
  if (!res.json?.success) throw new Error(`expected success, got ${res.status} ${res.body}`);
  return res.json.result;
};

async function rest(fx: Fixture, v: Viewer, url: string) {
  const res = await fx.h.request({ method: 'GET', url, as: v.session });
  expectStatus(res, 200);
  return res;
}

/** A REST read as one channel: the URL, and how to find the record in the answer (default: the answer). */
const restItem =
  (
    url: (fx: Fixture) => string,
    // biome-ignore lint/suspicious/noExplicitAny: the JSON body of whichever route the channel reads
    pick: (json: any, fx: Fixture) => Record<string, unknown> = (j) => j,
  ) =>
  async (fx: Fixture, v: Viewer): Promise<Seen> => {
    const res = await rest(fx, v, url(fx));
    const item = pick(res.json(), fx);
    return { fields: item, label: item.label as string, body: res.body };
  };

const FIELD_COLUMNS = ['firstname', ...FIELDS].map((f) => `Contacts.${f}`);
/** a report's cells (or aggregate values) by field name, from `Contacts.<field>` / `max(Contacts.<field>)` keys */
const byField = (keys: string[], values: unknown[]) =>
  Object.fromEntries(keys.map((k, i) => [k.replace(/^\w+\(|\)$/g, '').split('.')[1], values[i]]));

/** RFC 4180 records (quotes, doubled quotes); a cell the export guarded against formulas loses its `'`. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  const endCell = () => {
    row.push(/^'[=+\-@]/.test(cell) ? cell.slice(1) : cell);
    cell = '';
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted && c === '"' && text[i + 1] === '"') {
      cell += '"';
      i++;
    } else if (c === '"') quoted = !quoted;
    else if (quoted || (c !== ',' && c !== '\n' && c !== '\r')) cell += c;
    else if (c === ',') endCell();
    else if (c === '\n') {
      endCell();
      rows.push(row);
      row = [];
    }
  }
  return rows;
}

/** The contact's row of a CSV whose columns are FIELD_COLUMNS, by field name. */
function csvContact(csv: string): Record<string, unknown> {
  const [, ...rows] = parseCsv(csv.replace(/^\uFEFF/, ''));
  expect(rows.length, csv).toBe(1);
  return byField(FIELD_COLUMNS, rows[0]!);
}

const CHANNELS: Record<string, (fx: Fixture, v: Viewer) => Promise<Seen>> = {
  'REST get': restItem((fx) => `/api/v1/records/Contacts/${fx.contactId}`),
  'REST list (filter on an unmasked field)': restItem(
    (fx) => `/api/v1/records/Contacts?filter[department]=${fx.tag}`,
    (j) => j.items[0],
  ),
  'REST list, next page by cursor': async (fx, v) => {
    const first = await rest(
      fx,
      v,
      `/api/v1/records/Contacts?filter[department][startswith]=${fx.tag}&limit=1&sort=department`,
    );
    const next = await rest(
      fx,
      v,
      `/api/v1/records/Contacts?filter[department][startswith]=${fx.tag}&limit=1&sort=department&cursor=${first.json().nextCursor}`,
    );
    const item = [...first.json().items, ...next.json().items].find(
      (r: { id: number }) => r.id === fx.contactId,
    );
    return {
      fields: item,
      label: item.label,
      body: first.body + next.body + Buffer.from(first.json().nextCursor, 'base64url').toString(),
    };
  },
  'REST related record label (Accounts → Contacts list)': restItem(
    (fx) => `/api/v1/records/Contacts?filter[account_id]=${fx.accountId}`,
    (j, fx) => j.items.find((r: { id: number }) => r.id === fx.contactId),
  ),
  'REST related list (Account → its Contacts)': restItem(
    (fx) => `/api/v1/records/Accounts/${fx.accountId}/related/Contacts`,
    (j, fx) => j.items.find((r: { id: number }) => r.id === fx.contactId),
  ),
  'REST history': async (fx, v) => {
    const res = await rest(fx, v, `/api/v1/records/Contacts/${fx.contactId}/history`);
    const created = res.json().items.find((i: { action: string }) => i.action === 'created');
    const fields = Object.fromEntries(
      created.changes.map((c: { field: string; new: unknown }) => [c.field, c.new]),
    );
    return { fields, body: res.body };
  },
  'WS retrieve': async (fx, v) => {
    const res = await fx.ws.get({ operation: 'retrieve', sessionName: v.ws, id: `12x${fx.contactId}` });
    const r = wsOk(res);
    return { fields: r, label: r.label, body: res.body };
  },
  'WS query': async (fx, v) => {
    const res = await fx.ws.get({
      operation: 'query',
      sessionName: v.ws,
      query: `SELECT * FROM Contacts WHERE department = '${fx.tag}';`,
    });
    const [r] = wsOk(res);
    return { fields: r, body: res.body };
  },
  'WS sync': async (fx, v) => {
    const res = await fx.ws.get({
      operation: 'sync',
      sessionName: v.ws,
      modifiedTime: '0',
      elementType: 'Contacts',
    });
    const r = wsOk(res).updated.find((x: { id: string }) => x.id === `12x${fx.owned.get(v.id)}`);
    return { fields: r, body: res.body };
  },
  'WS retrieve_related': async (fx, v) => {
    const res = await fx.ws.get({
      operation: 'retrieve_related',
      sessionName: v.ws,
      id: `11x${fx.accountId}`,
      relatedType: 'Contacts',
      relatedLabel: 'Contacts',
    });
    const r = wsOk(res).find((x: { id: string }) => x.id === `12x${fx.contactId}`);
    return { fields: r, body: res.body };
  },
  'WS query_related': async (fx, v) => {
    const res = await fx.ws.get({
      operation: 'query_related',
      sessionName: v.ws,
      id: `11x${fx.accountId}`,
      relatedLabel: 'Contacts',
      query: 'SELECT * FROM Contacts;',
    });
    const r = wsOk(res).find((x: { id: string }) => x.id === `12x${fx.contactId}`);
    return { fields: r, body: res.body };
  },
  'REST list search q= (a masked value finds nothing)': async (fx, v) => {
    const res = await rest(fx, v, `/api/v1/records/Contacts?q=Jane&filter[department]=${fx.tag}`);
    const [item] = res.json().items;
    const count = async (q: string) =>
      (await rest(fx, v, `/api/v1/records/Contacts?q=${q}&filter[department]=${fx.tag}`)).json().items.length;
    expect(await count('example.com'), `${v.name}: q= on the email`).toBe(v.masked.includes('email') ? 0 : 1);
    expect(await count('Whitfield'), `${v.name}: q= on the last name`).toBe(
      v.masked.includes('lastname') ? 0 : 1,
    );
    expect(await count('4567'), `${v.name}: q= on the phone`).toBe(0);
    return { fields: item, label: item.label, body: res.body };
  },
  'global search GET /api/v1/search (a masked value finds nothing)': async (fx, v) => {
    const hitOf = async (q: string) => {
      const res = await rest(fx, v, `/api/v1/search?q=${encodeURIComponent(q)}&limit=50`);
      const hit = res
        .json()
        .items.find((i: { module: string; id: number }) => i.module === 'Contacts' && i.id === fx.contactId);
      return { res, hit };
    };
    const { res, hit } = await hitOf('Jane');
    const matched = Object.fromEntries(
      hit.matched.map((m: { field: string; value: unknown }) => [m.field, m.value]),
    );
    // "jane" is in the email: shown when the email is not masked, neither searched nor shown when it is
    const carries = FIELDS.filter((f) => f === 'email' && !v.masked.includes(f));
    expect(Object.keys(matched), v.name).toEqual(carries);
    for (const [q, f] of [
      ['jane.doe@example.com', 'email'],
      ['5551234567', 'phone'],
      ['Jane Whitfield', 'lastname'],
    ] as const)
      expect(!!(await hitOf(q)).hit, `${v.name}: search on ${f}`).toBe(!v.masked.includes(f));
    return { fields: matched, carries, label: hit.label, body: res.body };
  },
  'webhook payload (record and changes), delivered to the viewer’s own webhook': async (fx, v) => {
    await fx.h.ctx.webhookSender.drain();
    const got = fx.rx.received.find((r) => {
      const d = JSON.parse(r.body).data;
      return r.path === `/v${v.id}` && d.id === fx.contactId && d.operation === 'created';
    });
    expect(got, `${v.name}: no webhook delivery`).toBeDefined();
    const { record, changes } = JSON.parse(got!.body).data;
    for (const f of FIELDS) expect(changes[f], `${v.name}: changes.${f}`).toEqual([null, record[f]]);
    return { fields: record, label: record.label, body: got!.body };
  },
  'report run (cells)': async (fx, v) => {
    const res = await fx.h.request({
      method: 'POST',
      url: `/api/v1/reports/${fx.reportId}/run`,
      as: v.session,
    });
    expectStatus(res, 200);
    const { columns, rows } = res.json();
    expect(rows.length).toBe(1);
    return {
      fields: byField(
        columns.map((c: { key: string }) => c.key),
        rows[0],
      ),
      body: res.body,
    };
  },
  'report group keys (grouping by a field masked for the viewer is refused)': async (fx, v) => {
    const fields: Record<string, unknown> = {};
    let body = '';
    for (const f of FIELDS) {
      const res = await fx.h.request({
        method: 'POST',
        url: '/api/v1/reports/run',
        as: v.session,
        payload: {
          definition: {
            type: 'summary',
            primary: 'Contacts',
            filter: { field: 'Contacts.department', op: 'eq', value: fx.tag },
            groupBy: [`Contacts.${f}`],
            aggregates: [{ fn: 'count' }],
          },
        },
      });
      body += res.body;
      if (v.masked.includes(f)) {
        expectStatus(res, 403);
        expect(errorCode(res), `${v.name}: group by ${f}`).toBe('FIELD_MASKED');
        continue;
      }
      expectStatus(res, 200);
      const [group, ...more] = res.json().groups;
      expect(more).toEqual([]);
      expect(group.values).toEqual([1]);
      fields[f] = group.keys[0];
    }
    return { fields, carries: FIELDS.filter((f) => !v.masked.includes(f)), body };
  },
  'report CSV export': async (fx, v) => {
    const res = await rest(fx, v, `/api/v1/reports/${fx.reportId}/export.csv`);
    return { fields: csvContact(res.body), body: res.body };
  },
  'scheduled report mail': async (fx, v) => {
    fx.mailed ??= (async () => {
      await fx.h.ctx.db.kysely
        .updateTable('report_schedules')
        .set({ next_run_at: fx.h.clock.now() })
        .where('id', '=', fx.scheduleId)
        .execute();
      expect(await runDueSchedules(fx.h.ctx)).toBe(Object.keys(VIEWERS).length);
    })();
    await fx.mailed;
    const [mail] = (await outboxFor(fx.h, v.email)).filter((m) => m.subject.startsWith('Report:'));
    expect(mail, `${v.name}: no report mail`).toBeDefined();
    return {
      fields: csvContact(mail!.text.slice(mail!.text.indexOf('\n\n') + 2)),
      body: JSON.stringify(mail),
    };
  },
  'mailroom email on the record (From, body, attachment names)': async (fx, v) => {
    const res = await rest(fx, v, `/api/v1/mailroom/records/Contacts/${fx.contactId}/emails`);
    const [item, ...more] = res.json().items;
    expect(more, v.name).toEqual([]);
    const { email } = item;
    const line = (label: string) => new RegExp(`^${label}: (.*)$`, 'm').exec(email.text)?.[1];
    const fields = {
      email: email.from.address,
      phone: line('Phone'),
      title: line('Title'),
      lastname: line('Surname'),
    };
    // the same values, written another way, in the From name, the body and an attachment's name
    expect(line('Role'), v.name).toBe(v.masked.includes('title') ? MASKED.title : RAW.title.toUpperCase());
    expect(email.from.name, v.name).toBe(`Jane ${fields.lastname}`);
    expect(email.attachments.map((a: { filename: string }) => a.filename)).toEqual([
      `card ${v.masked.includes('phone') ? MASKED.phone : '15551234567'}.vcf`,
    ]);
    expect(email.text, v.name).toContain(
      `Call ${v.masked.includes('phone') ? MASKED.phone : '555 123 4567'} or write to ${fields.email}`,
    );
    return { fields, body: res.body };
  },
  'audit log of the record (admins only: field names, never values)': async (fx, v) => {
    const res = await fx.h.request({
      method: 'GET',
      url: `/api/v1/audit?targetType=Contacts&targetId=${fx.contactId}`,
      as: v.session,
    });
    if (!v.admin) {
      expectStatus(res, 403);
      return { fields: null, body: res.body };
    }
    expectStatus(res, 200);
    const created = res.json().items.find((i: { action: string }) => i.action === 'record.created');
    expect(created.details.fields).toEqual(expect.arrayContaining(FIELDS));
    for (const f of FIELDS) expect(res.body, `audit carries ${f}`).not.toContain(RAW[f]);
    return { fields: null, body: res.body };
  },
};

async function admin(
  h: Harness,
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  url: string,
  payload?: unknown,
) {
  return h.request({
    method,
    url,
    as: h.admin,
    ...(payload !== undefined ? { payload: payload as object } : {}),
  });
}

const webhookConfig = {
  webhooks: { ...parseConfig({}).webhooks, allowedHosts: ['127.0.0.1/32'], timeoutMs: 2000 },
};

describeEachDialect(
  'field masking: the leak matrix',
  (h) => {
    const ws = new WsKit(h);
    const rx = new WebhookReceiver();
    const fx = {
      h,
      ws,
      rx,
      owned: new Map(),
      tag: `dept${Math.random().toString(36).slice(2, 8)}`,
    } as Fixture;
    const viewers: Viewer[] = [];
    afterAll(() => rx.stop());

    beforeAll(async () => {
      await ws.start();
      await rx.start();
      expectStatus(
        await admin(h, 'PUT', '/api/v1/sharing-defaults', {
          Contacts: 'public_read',
          Accounts: 'public_read',
        }),
        200,
      );
      const grants = { view: true, create: true, edit: true, delete: true };
      const profile = await admin(h, 'POST', '/api/v1/profiles', {
        name: 'Sales with Unmask',
        permissions: { Contacts: grants, Accounts: grants },
      });
      expectStatus(profile, 201);
      const lead = await admin(h, 'POST', '/api/v1/roles', {
        name: 'Sales Lead',
        parentId: await h.roleId('Sales Manager'),
        profileIds: [profile.json().id],
      });
      expectStatus(lead, 201);
      expectStatus(await admin(h, 'PUT', '/api/v1/masking/unmask', { profileIds: [profile.json().id] }), 200);

      const acc = await admin(h, 'POST', '/api/v1/records/Accounts', { accountname: `Acme ${fx.tag}` });
      expectStatus(acc, 201);
      fx.accountId = acc.json().id;

      const rule = async (body: object) =>
        expectStatus(await admin(h, 'POST', '/api/v1/masking/rules', body), 201);
      await rule({ module: 'Contacts', field: 'phone', level: 'module' });
      await rule({
        module: 'Contacts',
        field: 'email',
        level: 'role',
        roleIds: [await h.roleId('Sales Manager')],
        includeSubordinates: true,
      });
      await rule({
        module: 'Contacts',
        field: 'title',
        level: 'role',
        roleIds: [await h.roleId('Support Manager')],
        keepFirst: 2,
        keepLast: 0,
      });
      await rule({
        module: 'Contacts',
        field: 'lastname',
        level: 'role',
        roleIds: [await h.roleId('Support Agent')],
      });

      for (const [name, spec] of Object.entries(VIEWERS)) {
        if (spec.admin) {
          viewers.push({
            name,
            id: h.admin.userId,
            username: 'admin',
            email: 'admin@localhost',
            admin: true,
            session: h.admin,
            ws: await ws.login('admin', h.admin.userId),
            masked: spec.masked,
          });
          continue;
        }
        const u = await h.createUser({ roleId: await h.roleId(spec.role) });
        viewers.push({
          name,
          ...u,
          email: `${u.username}@example.com`,
          admin: false,
          ws: await ws.login(u.username, u.id),
          masked: spec.masked,
        });
      }
      // each viewer's own webhook: payloads are presented for the webhook's owner
      for (const v of viewers) {
        const on = { method: 'PUT' as const, url: '/api/v1/users/me/api-access', as: v.session };
        expectStatus(await h.request({ ...on, payload: { enabled: true } }), 200);
        const hook = await h.request({
          method: 'POST',
          url: '/api/v1/webhooks',
          as: v.session,
          payload: { url: `${rx.url}/v${v.id}`, module: 'Contacts', operations: ['created'] },
        });
        expectStatus(hook, 201);
      }
      const c = await admin(h, 'POST', '/api/v1/records/Contacts', {
        ...RAW,
        department: fx.tag,
        account_id: fx.accountId,
      });
      expectStatus(c, 201);
      fx.contactId = c.json().id;
      // an email the mailroom links to the contact (From matches its email): it names every masked value
      await addRule(h, { name: 'Archive', action: 'link' });
      const linked = await postMessage(
        h,
        Buffer.from(
          [
            `From: "Jane ${RAW.lastname}" <${RAW.email.toUpperCase()}>`,
            'To: crm@rapport.example',
            'Subject: My details',
            `Message-ID: <details-${fx.tag}@example.com>`,
            'MIME-Version: 1.0',
            'Content-Type: multipart/mixed; boundary="B"',
            '',
            '--B',
            'Content-Type: text/plain; charset=utf-8',
            '',
            `Phone: ${RAW.phone}`,
            `Title: ${RAW.title}`,
            `Role: ${RAW.title.toUpperCase()}`,
            `Surname: ${RAW.lastname}`,
            `Call 555 123 4567 or write to ${RAW.email}`,
            '--B',
            'Content-Type: text/vcard; name="card.vcf"',
            'Content-Disposition: attachment; filename="card 15551234567.vcf"',
            '',
            'BEGIN:VCARD',
            '--B--',
            '',
          ].join('\r\n'),
        ),
      );
      expect(linked).toMatchObject({ status: 'processed', recordId: fx.contactId });
      // a second contact so the cursor channel has a next page
      expectStatus(
        await admin(h, 'POST', '/api/v1/records/Contacts', { lastname: 'Other', department: `${fx.tag}z` }),
        201,
      );
      // a public report of the contact, mailed to every viewer
      const report = async (name: string, definition: object) => {
        const res = await admin(h, 'POST', '/api/v1/reports', { name, visibility: 'public', definition });
        expectStatus(res, 201);
        return res.json().id as number;
      };
      const filter = { field: 'Contacts.department', op: 'eq', value: fx.tag };
      fx.reportId = await report('Masked contact', { primary: 'Contacts', columns: FIELD_COLUMNS, filter });
      const schedule = await admin(h, 'POST', `/api/v1/reports/${fx.reportId}/schedules`, {
        frequency: 'daily',
        timeUtc: '23:00',
        recipientUserIds: viewers.map((v) => v.id),
      });
      expectStatus(schedule, 201);
      fx.scheduleId = schedule.json().id;
      for (const v of viewers) {
        const own = await admin(h, 'POST', '/api/v1/records/Contacts', {
          ...RAW,
          department: `own${fx.tag}`,
          assigned_user_id: v.id,
        });
        expectStatus(own, 201);
        fx.owned.set(v.id, own.json().id);
      }
    }, 120_000);

    for (const [channel, see] of Object.entries(CHANNELS)) {
      it(`${channel}: each viewer sees exactly the masked or the real values`, async () => {
        for (const v of viewers) {
          const seen = await see(fx, v);
          for (const f of FIELDS) {
            const want = v.masked.includes(f) ? MASKED[f] : RAW[f];
            if (seen.fields && (seen.carries ?? FIELDS).includes(f))
              expect(seen.fields[f], `${channel} / ${v.name} / ${f}`).toBe(want);
            if (v.masked.includes(f))
              expect(seen.body, `${channel} / ${v.name} leaks ${f}`).not.toContain(RAW[f]);
          }
          if (seen.label !== undefined)
            expect(seen.label, `${channel} / ${v.name} label`).toBe(
              `Jane ${v.masked.includes('lastname') ? MASKED.lastname : RAW.lastname}`,
            );
        }
      });
    }

    describe('a masked field is no oracle', () => {
      const salesPerson = () => viewers.find((v) => v.name.includes('Sales Person'))!;
      it('REST filter, search, sort on a masked field are refused with FIELD_MASKED', async () => {
        for (const q of [
          'filter[phone]=%2B1%20555-123-4567',
          'filter[email][contains]=jane',
          'filter[email][empty]=false',
          'sort=email',
          'sort=-phone',
        ]) {
          const res = await h.request({
            method: 'GET',
            url: `/api/v1/records/Contacts?${q}`,
            as: salesPerson().session,
          });
          expectStatus(res, 403);
          expect(errorCode(res), q).toBe('FIELD_MASKED');
          expect(res.json().error.message).toMatch(/masked for you/);
        }
        // not masked for a Support Agent: allowed
        const agent = viewers.find((v) => v.name.includes('Support Agent'))!;
        expectStatus(
          await h.request({ method: 'GET', url: '/api/v1/records/Contacts?sort=email', as: agent.session }),
          200,
        );
      });

      it('VTQL WHERE and ORDER BY on a masked field get the Vtiger error envelope', async () => {
        for (const q of [
          "SELECT * FROM Contacts WHERE phone LIKE '%4567';",
          "SELECT id FROM Contacts WHERE email = 'jane.doe@example.com';",
          'SELECT id FROM Contacts ORDER BY email;',
        ]) {
          const res = await ws.get({ operation: 'query', sessionName: salesPerson().ws, query: q });
          expect(res.json.success, q).toBe(false);
          expect(res.json.error.code).toBe('ACCESS_DENIED');
          expect(res.json.error.message).toMatch(/masked/);
        }
      });

      it('describe (REST and web services) tells each viewer which fields are masked for them', async () => {
        for (const v of viewers) {
          const d = await rest(fx, v, '/api/v1/modules/Contacts');
          const masked = d
            .json()
            .fields.filter((f: { masked?: boolean }) => f.masked)
            .map((f: { name: string }) => f.name);
          expect(masked.sort(), v.name).toEqual([...v.masked].sort());
          expect(d.json().mayReveal, v.name).toBe(VIEWERS[v.name]!.unmask ?? false);
          const wd = wsOk(
            await ws.get({ operation: 'describe', sessionName: v.ws, elementType: 'Contacts' }),
          );
          const wsMasked = wd.fields
            .filter((f: { masked?: boolean }) => f.masked)
            .map((f: { name: string }) => f.name);
          expect(wsMasked.sort(), v.name).toEqual([...v.masked].sort());
        }
      });
    });

    describe('writing back and revealing', () => {
      const byName = (s: string) => viewers.find((v) => v.name.includes(s))!;
      const stored = async (id: number) =>
        (
          await sql<{
            phone: string;
            email: string;
          }>`select phone, email from crm_contacts where id = ${id}`.execute(h.ctx.db.kysely)
        ).rows[0]!;

      it('a masked placeholder sent back (REST PATCH, WS update and revise) leaves the real value; a new value is saved', async () => {
        const v = byName('Sales Person');
        const created = await h.request({
          method: 'POST',
          url: '/api/v1/records/Contacts',
          as: v.session,
          payload: { lastname: 'Roundtrip', phone: '+44 20 7946 0958', email: 'round.trip@example.org' },
        });
        expectStatus(created, 201);
        const rec = created.json();
        expect(rec.phone).toBe('+** ** **** 0958');
        expect(rec.email).toBe('r***@example.org');
        // the form sends everything it read back
        const patched = await h.request({
          method: 'PATCH',
          url: `/api/v1/records/Contacts/${rec.id}`,
          as: v.session,
          headers: { 'if-match': `"${rec.version}"` },
          payload: { ...rec, title: 'Buyer' },
        });
        expectStatus(patched, 200);
        expect(await stored(rec.id)).toEqual({ phone: '+44 20 7946 0958', email: 'round.trip@example.org' });
        // web services: update (full) and revise with the placeholders
        const got = wsOk(await ws.get({ operation: 'retrieve', sessionName: v.ws, id: `12x${rec.id}` }));
        wsOk(await ws.post({ operation: 'update', sessionName: v.ws, element: JSON.stringify(got) }));
        wsOk(
          await ws.post({
            operation: 'revise',
            sessionName: v.ws,
            element: JSON.stringify({ id: got.id, phone: got.phone, email: got.email }),
          }),
        );
        expect(await stored(rec.id)).toEqual({ phone: '+44 20 7946 0958', email: 'round.trip@example.org' });
        // the placeholder never became history either
        const hist = await rest(fx, byName('user with Unmask'), `/api/v1/records/Contacts/${rec.id}/history`);
        expect(hist.json().items.map((i: { action: string }) => i.action)).toEqual(['updated', 'created']);
        // a new real value is saved (and shown masked)
        const again = await h.request({
          method: 'PATCH',
          url: `/api/v1/records/Contacts/${rec.id}`,
          as: v.session,
          headers: {
            'if-match': `"${(await rest(fx, v, `/api/v1/records/Contacts/${rec.id}`)).json().version}"`,
          },
          payload: { phone: '+44 20 7946 0000' },
        });
        expectStatus(again, 200);
        expect(again.json().phone).toBe('+** ** **** 0000');
        expect((await stored(rec.id)).phone).toBe('+44 20 7946 0000');
      });

      it('placeholders copied into a new record (REST create, WS create) or into another record are never stored', async () => {
        const v = byName('Sales Person');
        const seen = (await rest(fx, v, `/api/v1/records/Contacts/${fx.contactId}`)).json();
        expect([seen.phone, seen.email]).toEqual([MASKED.phone, MASKED.email]);
        const copy = {
          firstname: seen.firstname,
          lastname: seen.lastname,
          phone: seen.phone,
          email: seen.email,
        };
        // REST create: the placeholders are left out, the other values are kept
        const created = await h.request({
          method: 'POST',
          url: '/api/v1/records/Contacts',
          as: v.session,
          payload: { ...copy, title: 'Copied' },
        });
        expectStatus(created, 201);
        expect([created.json().phone, created.json().email]).toEqual([null, null]);
        expect(await stored(created.json().id)).toEqual({ phone: null, email: null });
        // WS create with an element read through retrieve
        const got = wsOk(
          await ws.get({ operation: 'retrieve', sessionName: v.ws, id: `12x${fx.contactId}` }),
        );
        const { id: _id, ...element } = got;
        const wsCreated = wsOk(
          await ws.post({
            operation: 'create',
            sessionName: v.ws,
            elementType: 'Contacts',
            element: JSON.stringify(element),
          }),
        );
        expect(await stored(Number(String(wsCreated.id).split('x')[1]))).toEqual({
          phone: null,
          email: null,
        });
        // a placeholder copied from another record into an existing one leaves its value as it was
        const mine = created.json();
        const patched = await h.request({
          method: 'PATCH',
          url: `/api/v1/records/Contacts/${mine.id}`,
          as: v.session,
          headers: { 'if-match': `"${mine.version}"` },
          payload: { phone: seen.phone, email: seen.email, title: 'Patched' },
        });
        expectStatus(patched, 200);
        expect(patched.json().title).toBe('Patched');
        expect(await stored(mine.id)).toEqual({ phone: null, email: null });
        wsOk(
          await ws.post({
            operation: 'revise',
            sessionName: v.ws,
            element: JSON.stringify({ id: `12x${mine.id}`, phone: '******', email: 'x***@example.com' }),
          }),
        );
        expect(await stored(mine.id)).toEqual({ phone: null, email: null });
        // a mandatory field sent only as its placeholder is refused with a message that says so
        const agent = byName('Support Agent');
        const lastnameOnly = await h.request({
          method: 'POST',
          url: '/api/v1/records/Contacts',
          as: agent.session,
          payload: { firstname: 'Jane', lastname: MASKED.lastname },
        });
        expectStatus(lastnameOnly, 400);
        expect(errorCode(lastnameOnly)).toBe('MANDATORY_FIELD_MISSING');
        expect(lastnameOnly.json().error.message).toMatch(/masked placeholder/);
        const wsRefused = await ws.post({
          operation: 'create',
          sessionName: agent.ws,
          elementType: 'Contacts',
          element: JSON.stringify({ lastname: MASKED.lastname, assigned_user_id: `19x${agent.id}` }),
        });
        expect(wsRefused.json.success).toBe(false);
        expect(wsRefused.json.error.code).toBe('MANDATORY_FIELDS_MISSING');
        const count = await sql<{
          n: number | string;
        }>`select count(*) as n from crm_contacts where lastname = ${MASKED.lastname}`.execute(
          h.ctx.db.kysely,
        );
        expect(Number(count.rows[0]!.n)).toBe(0);
      });

      it('reveal: one value for a user with Unmask, audited; refused (and audited) without it', async () => {
        const lead = byName('user with Unmask');
        const res = await h.request({
          method: 'POST',
          url: `/api/v1/records/Contacts/${fx.contactId}/reveal`,
          as: lead.session,
          payload: { field: 'phone' },
        });
        expectStatus(res, 200);
        expect(res.json()).toEqual({ field: 'phone', value: RAW.phone, masked: true });
        for (const v of [byName('Sales Person'), byName('admin without')]) {
          const no = await h.request({
            method: 'POST',
            url: `/api/v1/records/Contacts/${fx.contactId}/reveal`,
            as: v.session,
            payload: { field: 'phone' },
          });
          expectStatus(no, 403);
          expect(errorCode(no)).toBe('UNMASK_DENIED');
          expect(no.body).not.toContain(RAW.phone);
        }
        const audit = await h.ctx.db.kysely
          .selectFrom('audit_log')
          .select(['actor_user_id', 'outcome', 'target_id', 'details'])
          .where('action', '=', 'record.field_revealed')
          .orderBy('id')
          .execute();
        expect(audit.map((a) => [a.actor_user_id, a.outcome, a.target_id])).toEqual([
          [lead.id, 'success', String(fx.contactId)],
          [byName('Sales Person').id, 'failure', String(fx.contactId)],
          [h.admin.userId, 'failure', String(fx.contactId)],
        ]);
        expect(JSON.parse(String(audit[0]!.details))).toEqual({
          module: 'Contacts',
          field: 'phone',
          channel: 'web',
        });
        // the reveal itself is a single value: the record read afterwards is masked again
        expect((await rest(fx, lead, `/api/v1/records/Contacts/${fx.contactId}`)).json().phone).toBe(
          MASKED.phone,
        );
      });

      it('no audit entry carries a raw masked value', async () => {
        const rows = await h.ctx.db.kysely.selectFrom('audit_log').select(['details']).execute();
        const all = rows.map((r) => String(r.details)).join('\n');
        for (const f of FIELDS) expect(all).not.toContain(RAW[f]);
      });

      it('a rule change applies on the next request (the permission cache is cleared)', async () => {
        const agent = byName('Support Agent');
        const rules = (await h.request({ method: 'GET', url: '/api/v1/masking/rules', as: h.admin })).json()
          .items;
        const lastname = rules.find((r: { field: string }) => r.field === 'lastname');
        const url = `/api/v1/records/Contacts/${fx.contactId}`;
        expect((await rest(fx, agent, url)).json().lastname).toBe(MASKED.lastname);
        expectStatus(
          await admin(h, 'PATCH', `/api/v1/masking/rules/${lastname.id}`, {
            level: 'role',
            roleIds: [await h.roleId('CEO')],
          }),
          200,
        );
        expect((await rest(fx, agent, url)).json().lastname).toBe(RAW.lastname);
        expectStatus(
          await admin(h, 'PATCH', `/api/v1/masking/rules/${lastname.id}`, { level: 'module' }),
          200,
        );
        expect((await rest(fx, agent, url)).json().lastname).toBe(MASKED.lastname);
        expectStatus(await admin(h, 'DELETE', `/api/v1/masking/rules/${lastname.id}`), 204);
        expect((await rest(fx, agent, url)).json().lastname).toBe(RAW.lastname);
      });
    });
  },
  webhookConfig,
);
