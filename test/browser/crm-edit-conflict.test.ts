import { expect, it } from 'vitest';
import { ADMIN_PASSWORD, expectStatus } from '../harness.js';
import { describeInBrowser, expectAccessible, signInHome } from './browser-harness.js';

describeInBrowser('edit form: save conflicts and stale errors', (env) => {
  const { h } = env;

  it('a save conflict shows at the top of the form and "Reload and keep my edits" saves both changes', async () => {
    const created = await h.request({
      method: 'POST',
      url: '/api/v1/records/Contacts',
      as: h.admin,
      payload: { firstname: 'Carla', lastname: 'Conflict', title: 'Buyer', department: 'Purchasing' },
    });
    expectStatus(created, 201);
    const { id, version } = created.json() as { id: number; version: number };

    const page = await env.open({ width: 1280, height: 700 });
    await signInHome(page, 'admin', ADMIN_PASSWORD);
    await page.goto(`/records/Contacts/${id}/edit`);
    await page.getByRole('heading', { name: /^Edit/, level: 1 }).waitFor();
    const title = page.getByLabel(/^Title/);
    await expect.poll(() => title.inputValue()).toBe('Buyer');

    // someone else saves the record while the form is open
    const other = await h.request({
      method: 'PATCH',
      url: `/api/v1/records/Contacts/${id}`,
      as: h.admin,
      payload: { department: 'Procurement', version },
    });
    expectStatus(other, 200);

    await title.fill('Head Buyer');
    env.allowHttpError(`/api/v1/records/Contacts/${id}`);
    await page.getByRole('button', { name: 'Save' }).click();
    const conflict = page.getByRole('alert').filter({ hasText: 'Someone else changed this record' });
    await conflict.waitFor();
    // in view, not below the 40 fields
    const box = await conflict.boundingBox();
    expect(box).not.toBeNull();
    expect(box!.y).toBeGreaterThanOrEqual(0);
    expect(box!.y + box!.height).toBeLessThanOrEqual(700);
    await env.shot(page, 'edit-conflict');
    await expectAccessible(page, 'the edit form with a save conflict');

    await conflict.getByRole('button', { name: 'Reload and keep my edits' }).click();
    await page.getByText('Reloaded with your edits kept').waitFor();
    await expect(conflict.count()).resolves.toBe(0);
    await expect(title.inputValue()).resolves.toBe('Head Buyer');
    await expect(page.getByLabel(/^Department/).inputValue()).resolves.toBe('Procurement');
    await page.getByRole('button', { name: 'Save' }).click();
    // exact: the form's own heading is "Edit Carla Conflict"
    await page.getByRole('heading', { name: 'Carla Conflict', level: 1, exact: true }).waitFor();
    await page.waitForURL(new RegExp(`/records/Contacts/${id}$`));

    const saved = await h.request({ method: 'GET', url: `/api/v1/records/Contacts/${id}`, as: h.admin });
    expect(saved.json()).toMatchObject({ title: 'Head Buyer', department: 'Procurement' });
  }, 60_000);

  it('a required-field error goes away once the field is filled, and a failed save’s banner once it saves', async () => {
    const page = await env.open();
    await signInHome(page, 'admin', ADMIN_PASSWORD);
    await page.goto('/records/Accounts/new');
    await page.getByRole('heading', { name: 'New Organization', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Save' }).click();
    const required = page.getByText('Organization Name is required.');
    await required.waitFor();
    await page.getByLabel(/^Organization Name/).fill('Stale Errors Inc');
    await expect(required.count()).resolves.toBe(0);

    // a server refusal shows a banner; fixing the input and saving leaves no banner behind
    const email = page.getByLabel('Email', { exact: true });
    await email.fill('not an email address');
    env.allowHttpError('/api/v1/records/Accounts');
    await page.getByRole('button', { name: 'Save' }).click();
    const banner = page.getByRole('alert').filter({ hasText: 'The record was not saved' });
    await banner.waitFor();
    await env.shot(page, 'edit-server-error');
    await email.fill('info@stale.example');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: 'Stale Errors Inc', level: 1, exact: true }).waitFor();
    await expect(banner.count()).resolves.toBe(0);
    await page.getByText('Stale Errors Inc was saved.').waitFor();
  }, 60_000);
});
