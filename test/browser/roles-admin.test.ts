import { expect, it } from 'vitest';
import { ADMIN_PASSWORD, expectStatus, type Harness } from '../harness.js';
import { describeInBrowser, signIn } from './browser-harness.js';

interface RoleRow {
  id: number;
  name: string;
  parentId: number | null;
  profileIds: number[];
}

async function roles(h: Harness): Promise<RoleRow[]> {
  return (await h.request({ method: 'GET', url: '/api/v1/roles', as: h.admin })).json().items;
}

async function auditActions(h: Harness, prefix: string): Promise<string[]> {
  const res = await h.request({ method: 'GET', url: `/api/v1/audit?action=${prefix}.*`, as: h.admin });
  return (res.json().items as Array<{ action: string }>).map((e) => e.action);
}

/** Issue 15: admins manage roles, profiles and sharing defaults in the UI, every change audited. */
describeInBrowser('roles, profiles and sharing defaults in the browser', (env) => {
  const { h } = env;

  it('creates, renames, moves and deletes a role, moving its users to another role', async () => {
    const page = await env.open();
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.goto('/settings/roles');
    const tree = page.getByRole('tree', { name: 'Role hierarchy' });
    await tree.getByRole('button', { name: 'Add a role under Sales Manager' }).click();
    let dialog = page.getByRole('dialog', { name: 'New role' });
    await dialog.getByLabel(/^Role name/).fill('Key Accounts');
    await env.shot(page, 'role-create');
    await dialog.getByRole('button', { name: 'Create role' }).click();
    await tree.getByRole('treeitem', { name: 'Key Accounts' }).waitFor();
    const all = await roles(h);
    const created = all.find((r) => r.name === 'Key Accounts')!;
    const manager = all.find((r) => r.name === 'Sales Manager')!;
    expect(created).toMatchObject({ parentId: manager.id, profileIds: manager.profileIds });

    await tree.getByRole('button', { name: 'Edit Key Accounts' }).click();
    dialog = page.getByRole('dialog', { name: 'Edit the role Key Accounts' });
    await dialog.getByLabel(/^Role name/).fill('Key Account Managers');
    await dialog.getByLabel(/^Reports to/).click();
    await page.getByRole('option', { name: 'Vice President' }).click();
    await env.shot(page, 'role-edit');
    await dialog.getByRole('button', { name: 'Save role' }).click();
    await tree.getByRole('treeitem', { name: 'Key Account Managers' }).waitFor();
    const vp = (await roles(h)).find((r) => r.name === 'Vice President')!;
    expect((await roles(h)).find((r) => r.id === created.id)).toMatchObject({
      name: 'Key Account Managers',
      parentId: vp.id,
    });
    await env.shot(page, 'roles-tree-edited');

    const member = await h.createUser({ firstName: 'Mo', lastName: 'Mover', roleId: created.id });
    await page.reload();
    await tree.getByRole('button', { name: 'Delete Key Account Managers' }).click();
    dialog = page.getByRole('dialog', { name: 'Delete the role Key Account Managers?' });
    await dialog.getByLabel(/^Move its users to/).click();
    await page.getByRole('option', { name: 'Sales Person' }).click();
    await env.shot(page, 'role-delete');
    await dialog.getByRole('button', { name: 'Delete role' }).click();
    await page.getByText('1 user moved to Sales Person.').waitFor();
    await expect.poll(() => tree.getByRole('treeitem', { name: 'Key Account Managers' }).count()).toBe(0);
    const moved = await h.request({ method: 'GET', url: `/api/v1/users/${member.id}`, as: h.admin });
    expect(moved.json().roleName).toBe('Sales Person');
    expect(await auditActions(h, 'role')).toEqual(
      expect.arrayContaining(['role.created', 'role.updated', 'role.deleted']),
    );
  });

  it("edits a profile's permissions; a new grant brings View with it", async () => {
    const page = await env.open();
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.goto('/settings/roles');
    await page.getByRole('tab', { name: 'Profiles' }).click();
    await page.getByRole('button', { name: 'Edit the profile Support Profile' }).click();
    const dialog = page.getByRole('dialog', { name: 'Edit the profile Support Profile' });
    await dialog.getByRole('checkbox', { name: 'Delete Quotes' }).check();
    await dialog.getByRole('checkbox', { name: 'View Products' }).uncheck();
    await env.shot(page, 'profile-edit');
    await dialog.getByRole('button', { name: 'Save profile' }).click();
    await page.getByText('The profile Support Profile is saved.').waitFor();
    const res = await h.request({ method: 'GET', url: '/api/v1/profiles', as: h.admin });
    const support = (res.json().items as Array<{ name: string; permissions: Record<string, unknown> }>).find(
      (p) => p.name === 'Support Profile',
    )!;
    expect(support.permissions.Quotes).toEqual({ view: true, create: false, edit: false, delete: true });
    expect(support.permissions.Products).toEqual({ view: false, create: false, edit: false, delete: false });
    expect(await auditActions(h, 'profile')).toContain('profile.updated');

    await page.getByRole('button', { name: 'New profile' }).click();
    const create = page.getByRole('dialog', { name: 'New profile' });
    await create.getByLabel(/^Profile name/).fill('Read-only Contacts');
    await create.getByRole('checkbox', { name: 'View Contacts' }).check();
    await create.getByRole('button', { name: 'Create profile' }).click();
    await page.getByRole('cell', { name: 'Read-only Contacts', exact: true }).waitFor();
    await env.shot(page, 'profiles');
    await page.getByRole('button', { name: 'Delete the profile Read-only Contacts' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete profile' }).click();
    await expect
      .poll(() => page.getByRole('cell', { name: 'Read-only Contacts', exact: true }).count())
      .toBe(0);
    expect(await auditActions(h, 'profile')).toEqual(
      expect.arrayContaining(['profile.created', 'profile.deleted']),
    );
  });

  it('changes a sharing default; a profile still in use cannot be deleted and says why', async () => {
    const page = await env.open();
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.goto('/settings/roles?tab=sharing');
    await page.getByRole('combobox', { name: 'Default access to Contacts' }).click();
    await page.getByRole('option', { name: 'Public: everyone can see', exact: true }).click();
    await env.shot(page, 'sharing-defaults');
    await page.getByRole('button', { name: 'Save sharing defaults' }).click();
    await page.getByText('The sharing defaults are saved.').waitFor();
    const res = await h.request({ method: 'GET', url: '/api/v1/sharing-defaults', as: h.admin });
    expect(res.json()).toMatchObject({ Contacts: 'public_read', Products: 'public_read_write' });
    expect(await auditActions(h, 'sharing')).toContain('sharing.updated');
    expectStatus(
      await h.request({
        method: 'PUT',
        url: '/api/v1/sharing-defaults',
        as: h.admin,
        payload: { Contacts: 'private' },
      }),
      200,
    );

    env.allowHttpError('/api/v1/profiles/');
    await page.getByRole('tab', { name: 'Profiles' }).click();
    await page.getByRole('button', { name: 'Delete the profile Sales Profile' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete the profile Sales Profile?' });
    await dialog.getByRole('button', { name: 'Delete profile' }).click();
    await dialog.getByText('Roles still use this profile; take it off them first.').waitFor();
    await env.shot(page, 'profile-in-use');
  });
});
