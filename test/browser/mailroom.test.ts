import { expect, it } from 'vitest';
import { ADMIN_PASSWORD, expectStatus } from '../harness.js';
import { addRule, clearRules, emlWith, postMessage } from '../mailroom-kit.js';
import { describeInBrowser, expectAccessible, signIn } from './browser-harness.js';

describeInBrowser('the mailroom in the browser', (env) => {
  it('builds a rule with autofill from a sample body, reorders rules, and re-runs an unmatched message', async () => {
    const { h } = env;
    // a message arrives before any rule exists: logged as unmatched
    const early = await postMessage(
      h,
      emlWith('web-form.eml', { 'Message-ID': '<browser-1@acme-web.example>' }),
    );
    expect(early.status).toBe('no_match');

    const page = await env.open();
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.getByLabel('Search settings').fill('mailroom');
    await page.getByRole('link', { name: 'Mailroom' }).click();
    await page.getByRole('heading', { name: 'Mailroom', level: 1 }).waitFor();

    await page.getByRole('button', { name: 'Add rule' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel(/^Rule name/).fill('Web leads');
    await dialog.getByRole('button', { name: 'Add condition' }).click();
    await dialog.getByLabel('Value', { exact: true }).fill('acme-web.example');
    await dialog.getByLabel('Module', { exact: true }).click();
    await page.getByRole('option', { name: 'Leads' }).click();
    await dialog
      .getByLabel('Sample email body')
      .fill('First Name: Jane\nLast Name: Doe\nCompany: Doe Industries\nLead Source: web site');
    await dialog.getByRole('button', { name: 'Find labels' }).click();
    for (const [label, field] of [
      ['Last Name', 'Last Name'],
      ['Company', 'Company'],
      ['Lead Source', 'Lead Source'],
    ] as const) {
      await dialog.getByLabel(`Field for ${label}`).click();
      await page.getByRole('option', { name: field, exact: true }).click();
    }
    await env.shot(page, 'mailroom-rule-editor');
    await dialog.getByRole('button', { name: 'Save rule' }).click();
    await page.getByTestId('rule-Web leads').waitFor();

    // a second rule, then move it above the first
    await page.getByRole('button', { name: 'Add rule' }).click();
    await dialog.getByLabel(/^Rule name/).fill('Archive');
    await dialog.getByLabel('Action', { exact: true }).click();
    await page.getByRole('option', { name: /^Link to the record/ }).click();
    await dialog.getByRole('button', { name: 'Save rule' }).click();
    await page.getByTestId('rule-Archive').waitFor();
    await page.getByRole('button', { name: 'Move Archive up' }).click();
    await expect
      .poll(
        async () =>
          (await page
            .getByRole('table', { name: 'Mailroom rules' })
            .locator('tbody tr')
            .first()
            .textContent()) ?? '',
      )
      .toContain('Archive');
    await env.shot(page, 'mailroom-rules');

    // the log: re-run the unmatched message; the Lead is created and linked
    await page.getByRole('tab', { name: 'Processing log' }).click();
    const row = page.getByRole('row').filter({ hasText: 'New enquiry from the contact form' });
    await row.getByText('no match').waitFor();
    await row.getByRole('button', { name: 'Re-run' }).click();
    await page.getByRole('dialog').getByText('Rule: Web leads').waitFor();
    await page
      .getByRole('dialog')
      .getByText(/Autofilled: .*leadsource = Web Site/)
      .waitFor();
    await page.keyboard.press('Escape');
    await row.getByText('processed').waitFor();
    await env.shot(page, 'mailroom-log');
    const link = row.getByRole('link', { name: /^Leads \d+/ });
    await link.click();
    await page.getByText('Doe Industries').first().waitFor();
  }, 90_000);

  it('adds a mailbox; Test connection says what failed; the password is never shown again', async () => {
    const page = await env.open();
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.goto('/settings/mailroom');
    await page.getByRole('tab', { name: 'Mailboxes' }).click();
    await page.getByRole('button', { name: 'Add mailbox' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name', { exact: true }).fill('Support');
    await dialog.getByLabel('IMAP host', { exact: true }).fill('127.0.0.1');
    await dialog.getByLabel('Port', { exact: true }).fill('1');
    await dialog.getByLabel('TLS', { exact: true }).uncheck();
    await dialog.getByLabel('Username', { exact: true }).fill('crm');
    await dialog.getByLabel('Password', { exact: true }).fill('s3cret-mailbox-pw');
    await dialog.getByRole('button', { name: 'Test connection' }).click();
    await page
      .getByTestId('mailbox-message')
      .getByText(/Could not talk to 127.0.0.1:1/)
      .waitFor();
    await dialog.getByRole('button', { name: 'Save mailbox' }).click();
    await page.getByRole('table', { name: 'Mailboxes' }).getByText('crm@127.0.0.1:1').waitFor();
    await env.shot(page, 'mailroom-mailboxes');
    expect(await page.content()).not.toContain('s3cret-mailbox-pw');
  }, 60_000);

  it('shows the email on the record it created: headers, text, attachments; a masked email stays masked', async () => {
    const { h } = env;
    await clearRules(h);
    await addRule(h, { name: 'New contacts', action: 'create', module: 'Contacts' });
    const created = await postMessage(
      h,
      emlWith('multipart-attachments.eml', {
        'Message-ID': '<browser-emails-1@navy.example>',
        From: 'Grace Hopper <grace.hopper@navy.example>',
      }),
    );
    expect(created.status).toBe('processed');
    const url = `/records/Contacts/${created.recordId}`;

    const page = await env.open();
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.goto(url);
    await page.getByRole('heading', { name: 'Grace Hopper', level: 1 }).waitFor();
    await page.getByRole('tab', { name: /^Emails/ }).click();
    const mail = page.getByRole('article', { name: 'Email: The engine does not start' });
    await mail.getByText('Grace Hopper <grace.hopper@navy.example>').waitFor();
    await mail.getByText('support@rapport.example', { exact: true }).waitFor();
    await mail.getByText('crm@rapport.example', { exact: true }).waitFor();
    await mail.getByText(/Rule New contacts created this record/).waitFor();
    const attachments = mail.getByRole('table', { name: 'Attachments of The engine does not start' });
    const rows = attachments.locator('tbody tr');
    await expect
      .poll(() => rows.allTextContents())
      .toEqual(['notes.txttext/plain12 bytes', 'notes.txtapplication/octet-stream10 bytes']);
    // the text is collapsed until asked for, and shown as text
    const show = mail.getByRole('button', { name: 'Show the text' });
    await expect(show.getAttribute('aria-expanded')).resolves.toBe('false');
    await show.click();
    await mail
      .getByTestId('email-text')
      .getByText(/does not start since Monday/)
      .waitFor();
    await expect(
      mail.getByRole('button', { name: 'Hide the text' }).getAttribute('aria-expanded'),
    ).resolves.toBe('true');
    await expectAccessible(page, 'the Emails tab of a record');
    await env.shot(page, 'record-emails');

    // a record without mailroom emails has no Emails tab
    const plain = await h.request({
      method: 'POST',
      url: '/api/v1/records/Contacts',
      as: h.admin,
      payload: { lastname: 'Nomail' },
    });
    expectStatus(plain, 201);
    await page.goto(`/records/Contacts/${plain.json().id}`);
    await page.getByRole('tab', { name: 'History' }).waitFor();
    await expect(page.getByRole('tab', { name: /^Emails/ }).count()).resolves.toBe(0);

    // a role the email field is masked for sees the placeholder in the email too, never the address
    const role = await h.createRole('Mail reader', {
      Contacts: { view: true, create: false, edit: false, delete: false },
    });
    expectStatus(
      await h.request({
        method: 'POST',
        url: '/api/v1/masking/rules',
        as: h.admin,
        payload: { module: 'Contacts', field: 'email', level: 'role', roleIds: [role.roleId] },
      }),
      201,
    );
    expectStatus(
      await h.request({
        method: 'PUT',
        url: '/api/v1/sharing-defaults',
        as: h.admin,
        payload: { Contacts: 'public_read' },
      }),
      200,
    );
    const reader = await h.createUser({ roleId: role.roleId });
    const other = await env.open();
    await signIn(other, reader.username, reader.password);
    await other.goto(`${url}?tab=emails`);
    const masked = other.getByRole('article', { name: 'Email: The engine does not start' });
    await masked.getByText('Grace Hopper <g***@navy.example>').waitFor();
    await masked
      .getByRole('table', { name: /^Attachments of/ })
      .getByText('notes.txt')
      .first()
      .waitFor();
    expect(await other.content()).not.toContain('grace.hopper@navy.example');
    await env.shot(other, 'record-emails-masked');
  }, 90_000);

  it('reorders rules by dragging a row; the order persists after a reload', async () => {
    const { h } = env;
    await clearRules(h);
    for (const name of ['First', 'Second', 'Third'])
      await addRule(h, { name, action: 'create', module: 'Contacts' });
    const page = await env.open();
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.goto('/settings/mailroom');
    const table = page.getByRole('table', { name: 'Mailroom rules' });
    const order = async () =>
      (await table.locator('tbody tr').allTextContents()).map((t) => /First|Second|Third/.exec(t)?.[0]);
    await expect.poll(order).toEqual(['First', 'Second', 'Third']);
    // the first save of the order is held up: the second move's save must not overtake it (on PostgreSQL
    // two saves in flight could commit in either order, and the older order came back after a reload)
    let held = false;
    await page.route('**/api/v1/mailroom/rules-order', async (route) => {
      if (!held) {
        held = true;
        await new Promise((r) => setTimeout(r, 800));
      }
      await route.continue();
    });
    let answered = 0;
    page.on('response', (res) => {
      if (res.url().endsWith('/mailroom/rules-order')) answered++;
    });
    // Third onto the upper half of First: it goes above it
    await page.getByTestId('rule-Third').dragTo(page.getByTestId('rule-First'), {
      targetPosition: { x: 40, y: 4 },
    });
    await expect.poll(order).toEqual(['Third', 'First', 'Second']);
    // First onto the lower half of Second: it goes below it
    const second = page.getByTestId('rule-Second');
    const box = (await second.boundingBox())!;
    await page.getByTestId('rule-First').dragTo(second, { targetPosition: { x: 40, y: box.height - 4 } });
    await expect.poll(order).toEqual(['Third', 'Second', 'First']);
    // both saves answered (a reload would cancel one still in flight), and the screen kept the last order
    await expect.poll(() => answered).toBe(2);
    expect(await order()).toEqual(['Third', 'Second', 'First']);
    await page.reload();
    await expect.poll(order).toEqual(['Third', 'Second', 'First']);
    const saved = await h.request({ method: 'GET', url: '/api/v1/mailroom/rules', as: h.admin });
    expect(saved.json().items.map((r: { name: string }) => r.name)).toEqual(['Third', 'Second', 'First']);
    await expectAccessible(page, 'the mailroom rules table');
  }, 60_000);
});
