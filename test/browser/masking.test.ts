import { expect, it } from 'vitest';
import { ADMIN_PASSWORD, expectStatus } from '../harness.js';
import { describeInBrowser, hasRoute, signIn } from './browser-harness.js';

describeInBrowser('field masking in the browser', (env) => {
  const { h } = env;

  it('an admin masks a phone field with a live preview; a user with Unmask reveals one value', async () => {
    if (!hasRoute(h, 'GET', '/api/v1/masking/rules')) throw new Error('the masking API is missing');
    const created = await h.request({
      method: 'POST',
      url: '/api/v1/records/Contacts',
      as: h.admin,
      payload: {
        firstname: 'Grace',
        lastname: 'Hopper',
        phone: '+1 555-123-4567',
        email: 'grace@example.com',
      },
    });
    expectStatus(created, 201);
    const id = created.json().id;

    const page = await env.open();
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.goto('/settings');
    await page.getByRole('link', { name: /Masking/ }).click();
    await page.getByRole('heading', { name: 'Masking', level: 1 }).waitFor();
    await page.getByText('No field is masked yet').waitFor();
    await page.getByRole('button', { name: 'Mask a field' }).click();
    const dialog = page.getByRole('dialog', { name: 'Mask a field' });
    await dialog.getByLabel('Module', { exact: true }).click();
    await page.getByRole('option', { name: 'Contacts' }).click();
    await dialog.getByLabel('Field', { exact: true }).click();
    // other types cannot be chosen, and the page says why
    await expect(
      page.getByRole('option', { name: /Date of Birth/ }).getAttribute('data-combobox-disabled'),
    ).resolves.toBe('true');
    await page.getByRole('option', { name: /^Office Phone/ }).click();
    await dialog.getByText('Greyed-out fields cannot be masked').waitFor();
    await dialog.getByText('+1 555-123-4567 → +* ***-***-4567').waitFor();
    await dialog.getByLabel('Digits kept at the end').fill('2');
    await dialog.getByText('+1 555-123-4567 → +* ***-***-**67').waitFor();
    await dialog.getByLabel('Digits kept at the end').fill('4');
    await dialog.getByText('+1 555-123-4567 → +* ***-***-4567').waitFor();
    await env.shot(page, 'masking-rule-dialog');
    await dialog.getByRole('button', { name: 'Save' }).click();
    const rules = page.getByRole('table', { name: 'Masking rules' });
    await rules.getByRole('cell', { name: 'Every user' }).waitFor();
    await page.getByText('Limitations').waitFor();
    await env.shot(page, 'masking-settings');

    // admins are masked too: the record page shows the placeholder, unlinked, and no eye button
    await page.goto(`/records/Contacts/${id}`);
    await page.getByRole('heading', { name: 'Grace Hopper', level: 1 }).waitFor();
    await page.getByText('+* ***-***-4567').first().waitFor();
    await expect(page.getByText('+1 555-123-4567').count()).resolves.toBe(0);
    await expect(page.getByRole('button', { name: 'Reveal Office Phone' }).count()).resolves.toBe(0);
    // the list cannot be sorted by the masked phone
    await page.goto('/records/Contacts');
    await page.getByRole('link', { name: 'Grace Hopper' }).waitFor();
    await expect(page.getByText('+1 555-123-4567').count()).resolves.toBe(0);

    // a user whose profile grants Unmask
    const role = await h.createRole('Data Steward', {
      Contacts: { view: true, create: true, edit: true, delete: false },
    });
    expectStatus(
      await h.request({
        method: 'PUT',
        url: '/api/v1/masking/unmask',
        as: h.admin,
        payload: { profileIds: [role.profileId] },
      }),
      200,
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
    const steward = await h.createUser({ roleId: role.roleId });
    const other = await env.open();
    await signIn(other, steward.username, steward.password);
    await other.goto(`/records/Contacts/${id}`);
    await other.getByRole('heading', { name: 'Grace Hopper', level: 1 }).waitFor();
    await other.getByText('+* ***-***-4567').first().waitFor();
    await other.getByRole('button', { name: 'Reveal Office Phone' }).click();
    await other.getByLabel('Office Phone (revealed)').waitFor();
    await expect(other.getByLabel('Office Phone (revealed)').textContent()).resolves.toBe('+1 555-123-4567');
    await env.shot(other, 'masking-revealed');
    const audit = await h.ctx.db.kysely
      .selectFrom('audit_log')
      .select(['actor_user_id', 'target_id'])
      .where('action', '=', 'record.field_revealed')
      .execute();
    expect(audit).toEqual([{ actor_user_id: steward.id, target_id: String(id) }]);
  }, 120_000);
});
