import type { Page } from 'playwright-core';
import { expect, it, type TestContext } from 'vitest';
import { ADMIN_PASSWORD, expectStatus, type Harness, type TestUser } from '../harness.js';
import { describeInBrowser, hasRoute, signIn } from './browser-harness.js';

interface KeyView {
  accessKey: string | null;
  apiAccess: boolean;
}

/** The access-key API lands on main separately; until then these click paths have nothing to drive. */
/** The screens under test need their API; a missing route is a failure, never a silent skip. */
function needKeys(h: Harness, _t: TestContext): void {
  if (!hasRoute(h, 'GET', '/api/v1/users/:id/access-key')) throw new Error('the access-key API is missing');
}

async function keyOf(h: Harness, userId: number): Promise<KeyView> {
  const res = await h.request({ method: 'GET', url: `/api/v1/users/${userId}/access-key`, as: h.admin });
  expectStatus(res, 200);
  return res.json() as KeyView;
}

/** A user with API access on, so their key authenticates. */
async function apiUser(
  h: Harness,
  fields: Record<string, unknown> = {},
): Promise<TestUser & { key: string }> {
  const user = await h.createUser(fields);
  const res = await h.request({
    method: 'PUT',
    url: `/api/v1/users/${user.id}/api-access`,
    as: h.admin,
    payload: { enabled: true },
  });
  expectStatus(res, 200);
  const key = (res.json() as KeyView).accessKey ?? (await keyOf(h, user.id)).accessKey;
  return { ...user, key: key! };
}

async function statusWithKey(h: Harness, key: string): Promise<number> {
  const res = await h.request({
    method: 'GET',
    url: '/api/v1/me',
    headers: { authorization: `Bearer ${key}` },
  });
  return res.statusCode;
}

async function openMyKey(page: Page): Promise<void> {
  await page.getByTestId('user-menu').click();
  await page.getByRole('menuitem', { name: 'My Preferences' }).click();
  await page.getByRole('heading', { name: 'Access Key' }).waitFor();
}

describeInBrowser('access keys in the browser', (env) => {
  const { h } = env;

  it('finds my access key under My Preferences, reveals and copies it', async (t) => {
    needKeys(h, t);
    const user = await apiUser(h, { firstName: 'Kim', lastName: 'Keyfinder' });
    const page = await env.open();
    await signIn(page, user.username, user.password);
    await openMyKey(page);
    const field = page.getByTestId('access-key-value');
    await expect(field.inputValue()).resolves.not.toContain(user.key);
    await env.shot(page, 'my-key-hidden');
    await page.getByRole('button', { name: 'Show key' }).click();
    // the key is fetched (and the reveal audited) only now
    await expect.poll(() => field.inputValue()).toBe(user.key);
    await page.getByRole('button', { name: 'Copy' }).click();
    await page.getByRole('button', { name: 'Copied' }).waitFor();
    // a string expression: the root tsconfig has no DOM types
    await expect(page.evaluate('navigator.clipboard.readText()')).resolves.toBe(user.key);
    await env.shot(page, 'my-key-copied');
    expect(await statusWithKey(h, user.key)).toBe(200);
  });

  it('admin changes a user key from User Management and the old key stops working', async (t) => {
    needKeys(h, t);
    const user = await apiUser(h, { firstName: 'Otto', lastName: 'Oldkey' });
    expect(await statusWithKey(h, user.key)).toBe(200);
    const page = await env.open();
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByLabel('Search users').fill('Oldkey');
    await page.getByRole('link', { name: 'Otto Oldkey' }).click();
    await page.getByRole('heading', { name: 'Otto Oldkey', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'More' }).click();
    await page.getByRole('menuitem', { name: 'Regenerate access key' }).click();
    const dialog = page.getByRole('dialog', { name: 'Regenerate the access key of Otto Oldkey?' });
    await dialog.getByText('replace the old key in every integration').waitFor();
    await env.shot(page, 'admin-change-key-confirm');
    await dialog.getByRole('button', { name: 'Regenerate access key' }).click();
    await page.getByText('New access key created').waitFor();
    await dialog.waitFor({ state: 'hidden' });
    const fresh = (await keyOf(h, user.id)).accessKey!;
    expect(fresh).not.toBe(user.key);
    await expect(page.getByTestId('access-key-value').inputValue()).resolves.toBe(fresh);
    await env.shot(page, 'admin-change-key-done');
    expect(await statusWithKey(h, user.key)).toBe(401);
    expect(await statusWithKey(h, fresh)).toBe(200);
  });

  it("admin views another user's key; a non-admin cannot", async (t) => {
    needKeys(h, t);
    const owner = await apiUser(h, { firstName: 'Vera', lastName: 'Visible' });
    const admin = await env.open();
    await signIn(admin, 'admin', ADMIN_PASSWORD);
    await admin.goto(`/settings/users/${owner.id}`);
    await admin.getByRole('heading', { name: 'Access Key' }).waitFor();
    await admin.getByRole('button', { name: 'Show key' }).click();
    await expect.poll(() => admin.getByTestId('access-key-value').inputValue()).toBe(owner.key);
    await env.shot(admin, 'admin-views-key');

    const nosy = await h.createUser({ firstName: 'Ned', lastName: 'Nosy' });
    const page = await env.open();
    await signIn(page, nosy.username, nosy.password);
    await page.goto(`/settings/users/${owner.id}`);
    await page.getByRole('alert').getByText('Permission denied').waitFor();
    await env.shot(page, 'non-admin-key-denied');
    const res = await page.request.get(`/api/v1/users/${owner.id}/access-key`);
    expect(res.status()).toBe(403);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/permission/i);
  });

  it('regenerates my key behind a warning; the old key stops working', async (t) => {
    needKeys(h, t);
    const user = await apiUser(h, { firstName: 'Rita', lastName: 'Regen' });
    const page = await env.open();
    await signIn(page, user.username, user.password);
    await openMyKey(page);
    await page.getByRole('button', { name: 'Regenerate access key' }).click();
    const dialog = page.getByRole('dialog', { name: 'Regenerate your access key?' });
    await dialog.getByText('the current key stops working immediately').waitFor();
    await dialog.getByRole('button', { name: 'Regenerate access key' }).click();
    await page.getByText('New access key created').waitFor();
    const fresh = await page.getByTestId('access-key-value').inputValue();
    expect(fresh).not.toBe(user.key);
    await env.shot(page, 'regenerated');
    expect(await statusWithKey(h, user.key)).toBe(401);
    expect(await statusWithKey(h, fresh)).toBe(200);
  });

  it('turns API access off; the key is then refused', async (t) => {
    needKeys(h, t);
    const user = await apiUser(h, { firstName: 'Otis', lastName: 'Off' });
    const page = await env.open();
    await signIn(page, user.username, user.password);
    await openMyKey(page);
    const toggle = page.getByRole('switch', { name: 'API access' });
    await expect(toggle.isChecked()).resolves.toBe(true);
    await toggle.click({ force: true });
    const dialog = page.getByRole('dialog', { name: 'Turn API access off?' });
    await dialog.getByRole('button', { name: 'Turn off' }).click();
    await page.getByText('API access turned off').waitFor();
    await expect(toggle.isChecked()).resolves.toBe(false);
    await env.shot(page, 'api-access-off');
    expect([401, 403]).toContain(await statusWithKey(h, user.key));
  });

  it('clears an API key in API Management and shows the user webhooks', async (t) => {
    needKeys(h, t);
    const user = await apiUser(h, { firstName: 'Cleo', lastName: 'Cleared' });
    const page = await env.open();
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.getByRole('link', { name: 'API Management' }).click();
    const table = page.getByRole('table', { name: 'Users with API access' });
    await table.getByRole('link', { name: 'Cleo Cleared' }).click();
    await page.getByRole('heading', { name: 'Webhooks of Cleo Cleared' }).waitFor();
    await page.getByTestId('webhooks-empty').waitFor();
    await env.shot(page, 'api-management');
    await page.getByRole('button', { name: 'Clear API Key of Cleo Cleared' }).click();
    const dialog = page.getByRole('dialog', { name: 'Clear the API key of Cleo Cleared?' });
    await dialog.getByRole('button', { name: 'Clear API Key' }).click();
    await page.getByText('API key cleared').waitFor();
    await expect.poll(() => table.getByRole('link', { name: 'Cleo Cleared' }).count()).toBe(0);
    await env.shot(page, 'api-management-cleared');
    expect(await statusWithKey(h, user.key)).toBe(401);
    expect(await keyOf(h, user.id)).toMatchObject({ accessKey: null, apiAccess: false });
  });
});
