import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { ADMIN_PASSWORD } from '../harness.js';
import { describePageInBrowser, signIn } from './browser-harness.js';

const VERSION = (
  JSON.parse(readFileSync(path.join(import.meta.dirname, '../../package.json'), 'utf8')) as {
    version: string;
  }
).version;

describePageInBrowser('About in the browser', (env) => {
  it('shows the version from package.json under the user menu', async () => {
    const page = await env.open();
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.getByTestId('user-menu').click();
    await page.getByRole('menuitem', { name: 'About Rapport' }).click();
    const dialog = page.getByRole('dialog', { name: 'About Rapport' });
    await dialog.waitFor();
    await expect(page.getByTestId('about-version').textContent()).resolves.toBe(`Version ${VERSION}`);
    await env.shot(page, 'about');
  });
});
