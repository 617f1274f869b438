import { expect, it } from 'vitest';
import { ADMIN_PASSWORD } from '../harness.js';
import { describePageInBrowser, signInHome } from './browser-harness.js';

/** The budget for the sign-in page's first load: JavaScript bytes over the wire. */
const SIGN_IN_JS_BUDGET = 250 * 1024;

interface Loaded {
  name: string;
  transferSize: number;
  encodedBodySize: number;
  decodedBodySize: number;
}

describePageInBrowser('bundle: compression, code splitting and boot indicator', (env) => {
  it('the sign-in page loads at most 250 KB of JavaScript over the wire, compressed, without the CRM pages', async () => {
    // a first visit: nothing in the browser's cache yet
    const page = await env.open(undefined, { coldCache: true });
    const encodings = new Map<string, string>();
    page.on('response', (res) => {
      if (res.url().endsWith('.js'))
        encodings.set(res.url(), res.headers()['content-encoding'] ?? 'identity');
    });
    await page.goto('/login', { waitUntil: 'networkidle' });
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    const scripts = (await page.evaluate(
      `performance.getEntriesByType('resource')
        .filter((e) => new URL(e.name).pathname.endsWith('.js'))
        .map((e) => ({ name: e.name, transferSize: e.transferSize, encodedBodySize: e.encodedBodySize, decodedBodySize: e.decodedBodySize }))`,
    )) as Loaded[];
    const wire = scripts.reduce((n, s) => n + s.transferSize, 0);
    const decoded = scripts.reduce((n, s) => n + s.decodedBodySize, 0);
    console.log(
      `[bundle] sign-in page: ${scripts.length} scripts, ${(wire / 1024).toFixed(1)} KB over the wire, ${(decoded / 1024).toFixed(1)} KB decoded`,
    );
    expect(scripts.length).toBeGreaterThan(0);
    expect(wire).toBeGreaterThan(0);
    expect(wire).toBeLessThanOrEqual(SIGN_IN_JS_BUDGET);
    // every script of 1 KB or more came precompressed (Chromium asks for brotli only over HTTPS: gzip here)
    for (const script of scripts.filter((x) => x.decodedBodySize >= 1024))
      expect(['br', 'gzip'], script.name).toContain(encodings.get(script.name));
    // the CRM, settings and reports code is not part of it
    const names = scripts.map((s) => new URL(s.name).pathname).join(' ');
    expect(names).not.toMatch(/report-builder|record-routes|masking-page|mailroom-page|home-page|app-layout/);

    // after sign-in the pages load on demand and work
    await signInHome(page, 'admin', ADMIN_PASSWORD);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Reports' }).click();
    await page.getByRole('heading', { name: 'Reports', level: 1 }).waitFor();
    const later = (await page.evaluate(
      `performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname).join(' ')`,
    )) as string;
    expect(later).toMatch(/home-page/);
    expect(later).toMatch(/reports-page/);
  }, 60_000);

  it('a boot indicator shows until the app has loaded, then the app replaces it', async () => {
    const page = await env.open();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    // hold the entry script back, as a slow link would
    await page.route(/\/assets\/index-[^/]+\.js$/, async (route) => {
      await gate;
      await route.continue();
    });
    await page.goto('/login', { waitUntil: 'commit' });
    const boot = page.getByRole('status').filter({ hasText: 'Loading Rapport…' });
    await boot.waitFor();
    await expect(boot.isVisible()).resolves.toBe(true);
    await env.shot(page, 'boot-indicator');
    release();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await expect(page.getByText('Loading Rapport…').count()).resolves.toBe(0);
  }, 60_000);
});
