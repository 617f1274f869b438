import { expect, it } from 'vitest';
import { ADMIN_PASSWORD, expectStatus } from '../harness.js';
import { describeInBrowser, signIn } from './browser-harness.js';

describeInBrowser('settings in the browser', (env) => {
  it('signs in, opens Settings and My Preferences from the user menu, and logs out', async () => {
    const page = await env.open();
    await page.goto('/settings/users');
    await page.getByRole('heading', { name: 'Sign in to Rapport' }).waitFor();
    expect(page.url()).toContain('/login?next=%2Fsettings%2Fusers');
    await env.shot(page, 'login');

    await page.getByLabel('Username').fill('admin');
    await page.getByLabel(/^Password/).fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();

    await page.getByTestId('user-menu').click();
    await page.getByRole('menuitem', { name: 'Settings' }).click();
    await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
    for (const group of ['User Management', 'API', 'Audit']) {
      await expect(page.getByRole('heading', { name: group, level: 2 }).isVisible()).resolves.toBe(true);
    }
    await env.shot(page, 'settings-home-admin');

    await page.getByLabel('Search settings').fill('audit');
    await expect(page.getByRole('link', { name: 'Audit log' }).isVisible()).resolves.toBe(true);
    await expect(page.getByRole('link', { name: 'Users' }).count()).resolves.toBe(0);

    await page.getByTestId('user-menu').click();
    await page.getByRole('menuitem', { name: 'My Preferences' }).click();
    await page.getByRole('heading', { name: 'My Preferences', level: 1 }).waitFor();
    await env.shot(page, 'preferences-admin');

    await page.getByTestId('user-menu').click();
    await page.getByRole('menuitem', { name: 'Log out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Rapport' }).waitFor();
    const me = await page.request.get('/api/v1/me');
    expect(me.status()).toBe(401);
  });

  it('says in words why a sign-in failed', async () => {
    const page = await env.open();
    env.allowHttpError('/api/v1/auth/login');
    await page.goto('/login');
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel(/^Password/).fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').getByText('Wrong username or password.').waitFor();
    await env.shot(page, 'login-failed');
  });

  it('answers a forgot-password request in place, and says why a reset link that is not valid fails', async () => {
    const page = await env.open();
    await page.goto('/forgot-password');
    await page.getByLabel('Username').fill('nobody-here');
    await page.getByLabel('Email').fill('nobody@example.org');
    await page.getByRole('button', { name: 'Send me a link' }).click();
    await page.getByRole('status').getByText('If an account matches').waitFor();

    env.allowHttpError('/api/v1/auth/reset-password');
    await page.goto('/reset-password?token=not-a-real-token');
    await page.getByLabel(/^New password/).fill('a new long password');
    await page.getByLabel('Repeat the new password').fill('a new long password');
    await page.getByRole('button', { name: 'Change password' }).click();
    const failed = page.getByRole('alert').filter({ hasText: 'The password was not changed' });
    await failed.waitFor();
    await expect(page.getByRole('button', { name: 'Change password' }).isEnabled()).resolves.toBe(true);
  });

  it('shows a non-admin only their own settings and refuses the admin pages', async () => {
    const user = await env.h.createUser({ firstName: 'Nora', lastName: 'Normal' });
    const page = await env.open();
    await signIn(page, user.username, user.password);
    await expect(page.getByRole('link', { name: 'My Preferences' }).isVisible()).resolves.toBe(true);
    await expect(page.getByRole('heading', { name: 'User Management' }).count()).resolves.toBe(0);
    await expect(page.getByRole('link', { name: 'Audit log' }).count()).resolves.toBe(0);
    await env.shot(page, 'settings-home-user');

    await page.goto('/settings/users/1');
    await page.getByRole('alert').getByText('Permission denied').waitFor();
    await env.shot(page, 'user-detail-permission-denied');
  });

  it('saves my preferences', async () => {
    const user = await env.h.createUser({ firstName: 'Pia', lastName: 'Prefs' });
    const page = await env.open();
    await signIn(page, user.username, user.password);
    await page.goto('/settings/preferences');
    await page.getByLabel('First name').fill('Pippa');
    await page.getByLabel('Date format').first().click();
    await page.getByRole('option', { name: /dd-mm-yyyy/ }).click();
    await page.getByRole('button', { name: 'Save preferences' }).click();
    await page.getByText('Your preferences are saved.').waitFor();
    const res = await env.h.request({ method: 'GET', url: `/api/v1/users/${user.id}`, as: env.h.admin });
    expectStatus(res, 200);
    expect(res.json()).toMatchObject({ firstName: 'Pippa', dateFormat: 'dd-mm-yyyy' });
  });

  it('lists, searches and creates users, and changes a username', async () => {
    await env.h.createUser({ firstName: 'Searchable', lastName: 'Sam' });
    const page = await env.open();
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.goto('/settings/users');
    await page.getByRole('table', { name: 'Users' }).waitFor();
    await page.getByLabel('Search users').fill('Searchable');
    await page.getByRole('link', { name: 'Searchable Sam' }).waitFor();
    await expect.poll(() => page.getByRole('table', { name: 'Users' }).getByRole('row').count()).toBe(2);
    await env.shot(page, 'users-search');

    await page.getByRole('button', { name: 'Add user' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add a user' });
    await dialog.getByLabel('Username').fill('carla.create');
    await dialog.getByLabel('Email').fill('carla@example.com');
    await dialog.getByLabel('First name').fill('Carla');
    await dialog.getByLabel('Last name').fill('Create');
    await dialog.locator('input[type="password"]').fill('a long enough password 42');
    await env.shot(page, 'users-create-dialog');
    await dialog.getByRole('button', { name: 'Add user' }).click();
    await page.getByRole('heading', { name: 'Carla Create', level: 1 }).waitFor();

    await page.getByRole('button', { name: 'More' }).click();
    await page.getByRole('menuitem', { name: 'Change Username' }).click();
    const rename = page.getByRole('dialog', { name: 'Change username' });
    await rename.getByLabel('New username').fill('carla.c');
    await rename.getByRole('button', { name: 'Change username' }).click();
    await page.getByText('The username is now carla.c.').waitFor();
    await rename.waitFor({ state: 'hidden' });

    await page.getByRole('button', { name: 'More' }).click();
    await page.getByRole('menuitem', { name: 'Edit details' }).click();
    const edit = page.getByRole('dialog', { name: 'Edit user details' });
    await edit.getByLabel('First name').fill('Carlotta');
    await edit.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: 'Carlotta Create', level: 1 }).waitFor();
    await env.shot(page, 'user-detail');
  });

  it('works with the keyboard alone, and dialogs take the focus', async () => {
    const page = await env.open();
    await page.goto('/login');
    await page.getByRole('heading', { name: 'Sign in to Rapport' }).waitFor();
    await expect(page.evaluate('document.activeElement?.autocomplete')).resolves.toBe('username');
    await page.keyboard.type('admin');
    await page.keyboard.press('Tab');
    await page.keyboard.type(ADMIN_PASSWORD);
    await page.keyboard.press('Enter');
    // signing in lands on Home (the CRM), not Settings
    await page.getByRole('heading', { name: 'Home', level: 1 }).waitFor();
    await page.getByTestId('user-menu').focus();
    await page.keyboard.press('Enter');
    await page.getByRole('menuitem', { name: 'My Preferences' }).waitFor();
    // arrow down until the item has the focus: where focus starts depends on when the menu finished opening
    // (string expressions: the root tsconfig has no DOM types)
    const focused = () =>
      page.evaluate('document.activeElement?.textContent?.trim() ?? ""') as Promise<string>;
    for (let i = 0; i < 6 && (await focused()) !== 'My Preferences'; i++)
      await page.keyboard.press('ArrowDown');
    await expect.poll(focused).toBe('My Preferences');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'My Preferences', level: 1 }).waitFor();
    await page.goto('/settings/users');
    await page.getByRole('button', { name: 'Add user' }).focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Add a user' });
    await dialog.waitFor();
    await expect
      .poll(() => page.evaluate('document.activeElement?.closest("[role=dialog]") !== null'))
      .toBe(true);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
  });

  it('works on a phone-sized screen', async () => {
    const page = await env.open({ width: 390, height: 844 });
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await env.shot(page, 'phone-settings-home');
    await page.goto('/settings/users');
    await page.getByRole('table', { name: 'Users' }).waitFor();
    await env.shot(page, 'phone-users');
  });

  it('filters the audit log', async () => {
    const page = await env.open();
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.goto('/settings/audit');
    await page.getByRole('table', { name: 'Audit entries' }).waitFor();
    const table = page.getByRole('table', { name: 'Audit entries' });
    await table.getByText('Created a user').first().waitFor();
    await page.getByLabel('Action').first().click();
    await page.getByRole('option', { name: 'Signed in', exact: true }).click();
    await expect.poll(() => table.getByText('Created a user').count()).toBe(0);
    await table.getByText('Signed in', { exact: true }).first().waitFor();
    await env.shot(page, 'audit');
    await page.goto('/settings/roles');
    await page.getByRole('tree', { name: 'Role hierarchy' }).waitFor();
    await env.shot(page, 'roles');
  });
});
