import { beforeEach, describe, expect, it } from 'vitest';
import { describeEachDialect, errorCode, expectStatus } from '../../test/harness.js';
import {
  addRule,
  clearRules,
  countRecords,
  eml,
  emlWith,
  logEntry,
  postMessage,
  webLeadRule,
} from '../../test/mailroom-kit.js';
import { claimMessage, processMessage } from './mailroom.service.js';

const WEB_FORM_AUTOFILL = {
  delimiter: ':',
  mappings: [
    { label: 'First Name', field: 'firstname' },
    { label: 'last name', field: 'lastname' },
    { label: 'Email', field: 'email' },
    { label: 'Phone', field: 'phone' },
    { label: 'Company', field: 'company' },
    { label: 'Lead Source', field: 'leadsource' },
    { label: 'Annual Revenue', field: 'annualrevenue' },
    { label: 'Employees', field: 'noofemployees' },
    { label: 'Call time', field: 'designation' },
    { label: 'Subject', field: 'city' },
  ],
};

describeEachDialect('mailroom: incoming email becomes records by rules', (h) => {
  beforeEach(() => clearRules(h));

  describe('a web-form notification with autofill', () => {
    it('creates one Lead with values from the body, typed per field; what does not fit is dropped and logged', async () => {
      await addRule(h, {
        name: 'Web leads',
        conditions: [{ field: 'from', op: 'contains', value: 'acme-web.example' }],
        action: 'create',
        module: 'Leads',
        autofill: WEB_FORM_AUTOFILL,
      });
      const before = await countRecords(h, 'Leads');
      const out = await postMessage(h, eml('web-form.eml'));
      expect(out).toMatchObject({ status: 'processed', duplicate: false });
      expect(await countRecords(h, 'Leads')).toBe(before + 1);

      const lead = (
        await h.request({ method: 'GET', url: `/api/v1/records/Leads/${out.recordId}`, as: h.admin })
      ).json();
      expect(lead).toMatchObject({
        firstname: 'Jane',
        lastname: 'Doe',
        email: 'jane.doe@example.org',
        phone: '555-1234',
        company: 'Doe Industries',
        leadsource: 'Web Site',
        annualrevenue: 1_250_000,
        designation: '10:30',
        city: 'New enquiry from the contact form',
        noofemployees: null,
      });
      expect(lead.description).toContain('A visitor filled in the contact form.');

      const log = await logEntry(h, out.id);
      expect(log).toMatchObject({
        status: 'processed',
        ruleName: 'Web leads',
        action: 'create',
        module: 'Leads',
      });
      expect(log.autofilled).toMatchObject({ firstname: 'Jane', leadsource: 'Web Site' });
      expect(log.dropped).toEqual([
        { label: 'Employees', field: 'noofemployees', value: 'about fifty', reason: 'not a number' },
      ]);
      expect(log.email.from).toEqual({ address: 'forms@acme-web.example', name: 'Website Forms' });

      // history and the event say the mailroom made it, and which rule
      const hist = (
        await h.request({ method: 'GET', url: `/api/v1/records/Leads/${out.recordId}/history`, as: h.admin })
      ).json();
      expect(hist.items[0]).toMatchObject({ action: 'created', channel: 'mailroom' });
      expect(hist.items[0].source).toContain('Mailroom rule "Web leads"');
      expect(hist.items[0].source).toContain('form-0001@acme-web.example');
      const ev = await h.ctx.db.kysely
        .selectFrom('domain_events')
        .selectAll()
        .where('record_id', '=', out.recordId!)
        .executeTakeFirstOrThrow();
      expect(JSON.parse(ev.payload)).toMatchObject({ channel: 'mailroom', operation: 'created' });
    });

    it('the same message twice (re-delivery, two aliases) makes one record; concurrent copies too', async () => {
      await addRule(h, { name: 'Web leads', action: 'create', module: 'Leads', autofill: WEB_FORM_AUTOFILL });
      const raw = emlWith('web-form.eml', { 'Message-ID': '<dup-1@acme-web.example>' });
      const before = await countRecords(h, 'Leads');
      const [a, b, c] = await Promise.all([postMessage(h, raw), postMessage(h, raw), postMessage(h, raw)]);
      expect(await countRecords(h, 'Leads')).toBe(before + 1);
      expect([a, b, c].filter((x) => !x.duplicate)).toHaveLength(1);
      expect(new Set([a, b, c].map((x) => x.id)).size).toBe(1);
      const again = await postMessage(h, raw);
      expect(again).toMatchObject({
        duplicate: true,
        status: 'processed',
        recordId: a.recordId ?? again.recordId,
      });
      expect(await countRecords(h, 'Leads')).toBe(before + 1);
    });

    it('a message without a Message-ID is deduplicated by a hash of its bytes', async () => {
      await addRule(h, { name: 'Anyone', action: 'create', module: 'Contacts' });
      const raw = emlWith('no-message-id.eml', { Subject: `Call me ${Date.now()}` });
      const first = await postMessage(h, raw);
      const second = await postMessage(h, raw);
      expect(first.status).toBe('processed');
      expect(second).toMatchObject({ id: first.id, duplicate: true });
      const contact = (
        await h.request({ method: 'GET', url: `/api/v1/records/Contacts/${first.recordId}`, as: h.admin })
      ).json();
      expect(contact).toMatchObject({
        firstname: 'Bob',
        lastname: 'Builder',
        email: 'bob@builders.example',
      });
    });

    it('HTML-only mail: table forms pair label and value cells; long lines are not wrapped', async () => {
      await addRule(h, {
        name: 'Quote forms',
        conditions: [{ field: 'subject', op: 'begins_with', value: 'quote' }],
        action: 'create',
        module: 'Leads',
        autofill: {
          delimiter: ':',
          mappings: [
            { label: 'First Name', field: 'firstname' },
            { label: 'Last Name', field: 'lastname' },
            { label: 'Email', field: 'email' },
            { label: 'Company', field: 'company' },
            { label: 'Number of employees', field: 'noofemployees' },
            { label: 'Message', field: 'lane' },
          ],
        },
      });
      const out = await postMessage(h, eml('html-table.eml'));
      expect(out.status).toBe('processed');
      const lead = (
        await h.request({ method: 'GET', url: `/api/v1/records/Leads/${out.recordId}`, as: h.admin })
      ).json();
      expect(lead).toMatchObject({
        firstname: 'René',
        lastname: 'Dupont',
        email: 'rene@dupont.example',
        company: 'Dupont & Fils',
        noofemployees: 1200,
        lane: 'we would like a quote for a very long line of text that must not be wrapped at eighty characters by the converter at all',
      });
    });

    it('reads ISO-2022-JP and windows-1251 mail', async () => {
      await addRule(h, {
        name: 'Japan',
        conditions: [{ field: 'from', op: 'ends_with', value: '.jp' }],
        action: 'create',
        module: 'Contacts',
        autofill: { delimiter: ':', mappings: [{ label: 'Name', field: 'lastname' }] },
      });
      await addRule(h, {
        name: 'Russia',
        conditions: [{ field: 'subject', op: 'equals', value: 'Заявка' }],
        action: 'create',
        module: 'Accounts',
        autofill: { delimiter: ':', mappings: [{ label: 'Company', field: 'accountname' }] },
      });
      const jp = await postMessage(h, eml('iso-2022-jp.eml'));
      const ru = await postMessage(h, eml('windows-1251.eml'));
      const contact = (
        await h.request({ method: 'GET', url: `/api/v1/records/Contacts/${jp.recordId}`, as: h.admin })
      ).json();
      expect(contact.lastname).toBe('こんにちは');
      const account = (
        await h.request({ method: 'GET', url: `/api/v1/records/Accounts/${ru.recordId}`, as: h.admin })
      ).json();
      expect(account.accountname).toBe('Ромашка');
    });
  });

  describe('loops and noise', () => {
    it('auto-replies, bulk mail and our own mail are logged and skipped, never records', async () => {
      await addRule(h, { name: 'Everything', action: 'create', module: 'Contacts' });
      const before = await countRecords(h, 'Contacts');
      const auto = await postMessage(h, eml('auto-reply.eml'));
      const bulk = await postMessage(h, eml('bulk.eml'));
      const own = await postMessage(
        h,
        emlWith('no-message-id.eml', { 'X-Rapport-Mail': 'password-reset', 'Message-ID': '<own-1@rapport>' }),
      );
      expect([auto.status, bulk.status, own.status]).toEqual(['skipped', 'skipped', 'skipped']);
      expect((await logEntry(h, auto.id)).reason).toContain('Auto-Submitted: auto-replied');
      expect((await logEntry(h, bulk.id)).reason).toContain('Precedence: bulk');
      expect(await countRecords(h, 'Contacts')).toBe(before);
      const rerun = await h.request({
        method: 'POST',
        url: `/api/v1/mailroom/messages/${auto.id}/rerun`,
        as: h.admin,
      });
      expect(rerun.statusCode).toBe(409);
    });
  });

  describe('tickets: create with the sender linked, then update by ticket number', () => {
    it('creates a ticket linked to the contact; the reply reopens the closed ticket; the email shows on it', async () => {
      const contact = await h.request({
        method: 'POST',
        url: '/api/v1/records/Contacts',
        as: h.admin,
        payload: { lastname: 'Lovelace', firstname: 'Ada', email: 'ada@engines.example' },
      });
      expectStatus(contact, 201);
      await addRule(h, {
        name: 'Replies',
        conditions: [{ field: 'subject', op: 'has_ticket_number', value: '' }],
        action: 'update_ticket',
      });
      await addRule(h, {
        name: 'Support',
        matchMode: 'any',
        conditions: [
          { field: 'to', op: 'equals', value: 'support@rapport.example' },
          { field: 'cc', op: 'equals', value: 'support@rapport.example' },
        ],
        action: 'create',
        module: 'HelpDesk',
      });
      const created = await postMessage(h, eml('multipart-attachments.eml'));
      expect(created.status).toBe('processed');
      const ticketRes = await h.request({
        method: 'GET',
        url: `/api/v1/records/HelpDesk/${created.recordId}`,
        as: h.admin,
      });
      const ticket = ticketRes.json();
      expect(ticket).toMatchObject({
        ticket_title: 'The engine does not start',
        ticketstatus: 'Open',
        contact_id: contact.json().id,
        description: 'The analytical engine does not start since Monday.',
      });
      const emails = await h.request({
        method: 'GET',
        url: `/api/v1/mailroom/records/HelpDesk/${created.recordId}/emails`,
        as: h.admin,
      });
      expectStatus(emails, 200);
      expect(emails.json().items[0].email.attachments).toEqual([
        { filename: 'notes.txt', mimeType: 'text/plain', size: 12 },
        { filename: 'notes.txt', mimeType: 'application/octet-stream', size: 10 },
      ]);

      expectStatus(
        await h.request({
          method: 'PATCH',
          url: `/api/v1/records/HelpDesk/${created.recordId}`,
          as: h.admin,
          headers: { 'if-match': '"1"' },
          payload: { ticketstatus: 'Closed' },
        }),
        200,
      );
      const reply = await postMessage(
        h,
        emlWith('ticket-reply.eml', {
          Subject: `Re: [${ticket.ticket_no}] The engine does not start`,
        }),
      );
      expect(reply).toMatchObject({ status: 'processed', recordId: created.recordId });
      const reopened = (
        await h.request({ method: 'GET', url: `/api/v1/records/HelpDesk/${created.recordId}`, as: h.admin })
      ).json();
      expect(reopened.ticketstatus).toBe('Open');
      const hist = (
        await h.request({
          method: 'GET',
          url: `/api/v1/records/HelpDesk/${created.recordId}/history`,
          as: h.admin,
        })
      ).json();
      expect(hist.items[0]).toMatchObject({ action: 'updated', channel: 'mailroom' });
      expect(hist.items[0].source).toContain('Mailroom rule "Replies"');
      const after = (
        await h.request({
          method: 'GET',
          url: `/api/v1/mailroom/records/HelpDesk/${created.recordId}/emails`,
          as: h.admin,
        })
      ).json();
      expect(after.items.map((i: { action: string }) => i.action)).toEqual(['update_ticket', 'create']);

      // a user who cannot see the ticket cannot see its emails either
      const stranger = await h.createUser();
      const hidden = await h.request({
        method: 'GET',
        url: `/api/v1/mailroom/records/HelpDesk/${created.recordId}/emails`,
        as: stranger.session,
      });
      const hiddenRecord = await h.request({
        method: 'GET',
        url: `/api/v1/records/HelpDesk/${created.recordId}`,
        as: stranger.session,
      });
      expect(hidden.statusCode).toBeGreaterThanOrEqual(403);
      expect([hidden.statusCode, errorCode(hidden)]).toEqual([
        hiddenRecord.statusCode,
        errorCode(hiddenRecord),
      ]);
      expect(hidden.body).not.toContain('engine');
      // the emails of a record are looked up by module too: the same id under another module finds nothing
      const otherModule = await h.request({
        method: 'GET',
        url: `/api/v1/mailroom/records/Contacts/${created.recordId}/emails`,
        as: h.admin,
      });
      expect(otherModule.statusCode).toBe(404);
    });

    it('link: attaches the email to the record whose email matches From; a known sender is linked, not duplicated', async () => {
      const c = await h.request({
        method: 'POST',
        url: '/api/v1/records/Contacts',
        as: h.admin,
        payload: { lastname: 'Builder', email: 'bob.link@builders.example' },
      });
      await addRule(h, { name: 'Archive', action: 'link' });
      const out = await postMessage(
        h,
        emlWith('no-message-id.eml', { From: 'Bob <bob.link@builders.example>', 'Message-ID': '<link-1@b>' }),
      );
      expect(out).toMatchObject({ status: 'processed', recordId: c.json().id });
      expect((await logEntry(h, out.id)).action).toBe('link');

      await clearRules(h);
      await addRule(h, { name: 'New contacts', action: 'create', module: 'Contacts' });
      const before = await countRecords(h, 'Contacts');
      const known = await postMessage(
        h,
        emlWith('no-message-id.eml', { From: 'Bob <bob.link@builders.example>', 'Message-ID': '<link-2@b>' }),
      );
      expect(known).toMatchObject({ status: 'processed', recordId: c.json().id });
      expect(await countRecords(h, 'Contacts')).toBe(before);
    });
  });

  describe('unmatched and failed messages are kept and can be re-run', () => {
    it('no rule → no_match; after adding a rule, re-run creates the record', async () => {
      const out = await postMessage(h, emlWith('forwarded.eml', { 'Message-ID': '<rerun-1@x>' }));
      expect(out.status).toBe('no_match');
      expect((await logEntry(h, out.id)).reason).toBe('there are no enabled rules');
      await addRule(
        h,
        webLeadRule('Forwarded leads', { field: 'subject', op: 'regex', value: '^fwd:.*trade show$' }),
      );
      const rerun = await h.request({
        method: 'POST',
        url: `/api/v1/mailroom/messages/${out.id}/rerun`,
        as: h.admin,
      });
      expectStatus(rerun, 200);
      expect(rerun.json()).toMatchObject({ status: 'processed', ruleName: 'Forwarded leads', attempts: 2 });
      const lead = (
        await h.request({ method: 'GET', url: `/api/v1/records/Leads/${rerun.json().recordId}`, as: h.admin })
      ).json();
      expect(lead).toMatchObject({
        lastname: 'Hopper',
        company: 'US Navy',
        email: 'grace@navy.example',
      });
    });

    it('deals get defaults for their mandatory fields; a catastrophic rule regex fails the message, not the server', async () => {
      await addRule(h, {
        name: 'Deals',
        action: 'create',
        module: 'Potentials',
        autofill: { delimiter: ':', mappings: [{ label: 'Stage', field: 'sales_stage' }] },
      });
      const before = await countRecords(h, 'Potentials');
      const out = await postMessage(h, emlWith('no-message-id.eml', { 'Message-ID': '<deal-1@x>' }));
      expect(out.status).toBe('processed');
      expect(await countRecords(h, 'Potentials')).toBe(before + 1);
      // a catastrophic regex is time-boxed: the message fails with the reason, the server carries on
      await clearRules(h);
      await addRule(h, {
        name: 'Evil',
        conditions: [{ field: 'body', op: 'regex', value: '^(a+)+$' }],
        action: 'create',
        module: 'Contacts',
      });
      const evil = await postMessage(
        h,
        Buffer.from(
          `From: x@y.example\r\nMessage-ID: <evil-1@x>\r\nSubject: evil\r\n\r\n${'a'.repeat(40)}!\r\n`,
        ),
      );
      expect(evil.status).toBe('failed');
      expect((await logEntry(h, evil.id)).reason).toMatch(/took longer than 50 ms/);
      expect((await logEntry(h, evil.id)).rerunnable).toBe(true);
    });

    it('malformed MIME and 8-bit headers are read leniently, never crash', async () => {
      await addRule(h, { name: 'All', action: 'create', module: 'Contacts' });
      const out = await postMessage(h, eml('broken.eml'));
      expect(['processed', 'failed']).toContain(out.status);
      const health = await h.request({
        method: 'GET',
        url: '/api/v1/mailroom/messages?limit=5',
        as: h.admin,
      });
      expectStatus(health, 200);
    });

    it('a message over the size limit is logged with the reason and not kept', async () => {
      const now = h.ctx.clock.now();
      const raw = emlWith('no-message-id.eml', { 'Message-ID': '<big-1@x>' });
      const claimed = await h.ctx.db.kysely
        .transaction()
        .execute((trx) => claimMessage(trx, raw, { key: 'intake' }, now, 100));
      const result = await processMessage(h.ctx, claimed.id, 'rerun');
      expect(result.status).not.toBe('processed');
      const log = await logEntry(h, claimed.id);
      expect(log.status).toBe('failed');
      expect(log.reason).toMatch(/over the mailroom's limit of 100 bytes/);
      expect(log.rerunnable).toBe(false);
    });

    it('an empty body is refused', async () => {
      const res = await h.request({
        method: 'POST',
        url: '/api/v1/mailroom/messages',
        as: h.admin,
        headers: { 'content-type': 'message/rfc822' },
        payload: Buffer.alloc(0),
      });
      expect(res.statusCode).toBe(400);
    });
  });

  describe('rules: admin-only, validated, ordered, audited', () => {
    it('refuses bad rules with a clear 400 and changes nothing', async () => {
      const bad = [
        { name: 'r', action: 'create' },
        {
          name: 'r',
          action: 'create',
          module: 'Leads',
          autofill: { delimiter: ':', mappings: [{ label: 'a', field: 'assigned_user_id' }] },
        },
        {
          name: 'r',
          action: 'create',
          module: 'Leads',
          autofill: {
            delimiter: ':',
            mappings: [
              { label: 'a', field: 'email' },
              { label: 'b', field: 'email' },
            ],
          },
        },
        { name: 'r', action: 'link', conditions: [{ field: 'body', op: 'regex', value: '(' }] },
        { name: 'r', action: 'link', conditions: [{ field: 'nope', op: 'contains', value: 'x' }] },
        { name: 'r', action: 'link', assignedUserId: 999_999 },
      ];
      for (const payload of bad) {
        const res = await h.request({
          method: 'POST',
          url: '/api/v1/mailroom/rules',
          as: h.admin,
          payload: { assignedUserId: h.admin.userId, ...payload },
        });
        expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      }
      const list = await h.request({ method: 'GET', url: '/api/v1/mailroom/rules', as: h.admin });
      expect(list.json().items).toEqual([]);
    });

    it('reorders (first match wins), updates, deletes; every change is audited', async () => {
      const a = await addRule(h, { name: 'A', action: 'create', module: 'Contacts' });
      const b = await addRule(h, {
        name: 'B',
        action: 'create',
        module: 'Leads',
        autofill: { delimiter: ':', mappings: [] },
      });
      const order = await h.request({
        method: 'PUT',
        url: '/api/v1/mailroom/rules-order',
        as: h.admin,
        payload: { ids: [b.id, a.id] },
      });
      expectStatus(order, 200);
      expect(order.json().items.map((r: { name: string }) => r.name)).toEqual(['B', 'A']);
      const out = await postMessage(h, emlWith('no-message-id.eml', { 'Message-ID': '<order-1@x>' }));
      expect((await logEntry(h, out.id)).ruleName).toBe('B');
      const wrongOrder = await h.request({
        method: 'PUT',
        url: '/api/v1/mailroom/rules-order',
        as: h.admin,
        payload: { ids: [a.id] },
      });
      expect(errorCode(wrongOrder)).toBe('MAILROOM_RULE_INVALID');
      const upd = await h.request({
        method: 'PUT',
        url: `/api/v1/mailroom/rules/${a.id}`,
        as: h.admin,
        payload: { name: 'A2', action: 'link', assignedUserId: h.admin.userId, enabled: false },
      });
      expectStatus(upd, 200);
      expect(upd.json()).toMatchObject({ name: 'A2', enabled: false, module: null });
      expectStatus(
        await h.request({ method: 'DELETE', url: `/api/v1/mailroom/rules/${b.id}`, as: h.admin }),
        204,
      );
      expect(
        (await h.request({ method: 'DELETE', url: `/api/v1/mailroom/rules/${b.id}`, as: h.admin }))
          .statusCode,
      ).toBe(404);
      const audit = await h.ctx.db.kysely
        .selectFrom('audit_log')
        .select('action')
        .where('action', 'like', 'mailroom.%')
        .execute();
      const actions = new Set(audit.map((x) => x.action));
      for (const act of [
        'mailroom.rule_created',
        'mailroom.rules_reordered',
        'mailroom.rule_updated',
        'mailroom.rule_deleted',
      ])
        expect(actions.has(act)).toBe(true);
    });

    it('lists the labels of a sample body for the autofill mapping', async () => {
      const res = await h.request({
        method: 'POST',
        url: '/api/v1/mailroom/autofill/labels',
        as: h.admin,
        payload: { sample: 'Name => Jane\r\nPhone => 555\nno label here\n=> orphan', delimiter: '=>' },
      });
      expectStatus(res, 200);
      expect(res.json().labels.map((l: { label: string }) => l.label)).toEqual([
        'Subject',
        'From Email',
        'From Name',
        'Email Content',
        'Name',
        'Phone',
      ]);
      const fields = await h.request({ method: 'GET', url: '/api/v1/mailroom/autofill/fields', as: h.admin });
      const leads = fields.json().modules.find((m: { name: string }) => m.name === 'Leads');
      expect(leads.fields.map((f: { name: string }) => f.name)).toContain('leadsource');
      expect(leads.fields.map((f: { name: string }) => f.name)).not.toContain('assigned_user_id');
    });

    it('records are created as the rule user (their permissions apply)', async () => {
      const user = await h.createUser();
      await addRule(h, { name: 'As user', action: 'create', module: 'Contacts', assignedUserId: user.id });
      const out = await postMessage(h, emlWith('no-message-id.eml', { 'Message-ID': '<as-user-1@x>' }));
      expect(out.status).toBe('processed');
      const rec = (
        await h.request({ method: 'GET', url: `/api/v1/records/Contacts/${out.recordId}`, as: h.admin })
      ).json();
      expect(rec.assigned_user_id).toBe(user.id);
      expect(rec.modifiedby).toBe(user.id);
    });

    it("a deleted user's rules pass to the user who receives their records, also when purged", async () => {
      const leaver = await h.createUser();
      const receiver = await h.createUser();
      const rule = await addRule(h, { name: 'Leaver rule', action: 'link', assignedUserId: leaver.id });
      expectStatus(
        await h.request({
          method: 'DELETE',
          url: `/api/v1/users/${leaver.id}?transferTo=${receiver.id}&permanent=true`,
          as: h.admin,
        }),
        200,
      );
      const list = await h.request({ method: 'GET', url: '/api/v1/mailroom/rules', as: h.admin });
      expect(list.json().items.find((r: { id: number }) => r.id === rule.id).assignedUserId).toBe(
        receiver.id,
      );
    });
  });
});
