import { expect, it } from 'vitest';
import { ADMIN_PASSWORD } from '../harness.js';
import { describePageInBrowser, signIn } from './browser-harness.js';

// Any CSP violation is a console error, which fails the test (browser-harness).
describePageInBrowser('Security headers in the browser', (env) => {
  it('the UI runs under its strict CSP (no inline scripts) and Swagger UI under its own', async () => {
    const page = await env.open();
    const shell = await page.goto('/');
    const csp = (await shell!.allHeaders())['content-security-policy'];
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.getByTestId('user-menu').waitFor();

    const docs = await page.goto('/api/docs', { waitUntil: 'domcontentloaded' });
    expect((await docs!.allHeaders())['content-security-policy']).toContain("frame-ancestors 'none'");
    await page.locator('.opblock').first().waitFor();
    expect(await page.locator('.opblock').count()).toBeGreaterThan(20);
  }, 90_000);
});
