import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect } from 'vitest';
import type { Config } from '../../src/config.js';
import type { DialectName } from '../../src/db/database.js';
import { ManualClock } from '../../src/platform/clock.js';
import { DIALECTS, Harness } from '../harness.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
export const ARTIFACTS = path.join(ROOT, 'test-artifacts');
/** Screenshots for people to look at: on unless CI (which keeps none) runs the tests; RAPPORT_TEST_SCREENSHOTS=1 forces them. */
const SCREENSHOTS = process.env.RAPPORT_TEST_SCREENSHOTS === '1' || !process.env.CI;
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
];

/** Debian's Chromium from PATH; never a downloaded browser. */
export function findChromium(): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    for (const name of ['chromium', 'chromium-browser']) {
      const p = path.join(dir, name);
      if (fs.existsSync(p)) return p;
    }
  }
  return null;
}

const executablePath = findChromium();
if (!executablePath && process.env.RAPPORT_TEST_REQUIRE_BROWSER === '1') {
  throw new Error('Chromium is required (RAPPORT_TEST_REQUIRE_BROWSER=1) but no `chromium` is on PATH');
}
if (!executablePath) {
  console.warn(
    '\n[test] !!! Chromium is not on PATH: the BROWSER TESTS ARE SKIPPED. Install it with `apt-get install chromium`. !!!\n',
  );
}

export interface BrowserEnv {
  h: Harness;
  baseUrl: string;
  /**
   * A page signed in as nobody, with no cookies or local storage, that fails the test on any script or
   * console error. Its browser context may have served an earlier test of the file (cookies and storage
   * cleared, its HTTP cache kept, as a returning visitor's browser keeps the UI's immutable assets); every
   * page open at once in one test has a context of its own, so two users can be signed in side by side.
   * `coldCache` gives a context that has loaded nothing yet (a first visit).
   */
  open(viewport?: { width: number; height: number }, options?: { coldCache?: boolean }): Promise<Page>;
  /** Saves test-artifacts/<dialect>-<name>.png (not under CI, see SCREENSHOTS). */
  shot(page: Page, name: string): Promise<void>;
  /** Lets the current test see an HTTP error response the browser reports on the console (an expected refusal). */
  allowHttpError(urlPart: string): void;
}

/** Runs `fn` per dialect against a real Rapport listening on a random loopback port, driven by Chromium. */
export function describeInBrowser(
  name: string,
  fn: (env: BrowserEnv) => void,
  configOverrides: Partial<Config> = {},
): void {
  describeOn(DIALECTS, name, fn, configOverrides);
}

/**
 * For tests of the page itself — its markup's accessibility, its scripts' size, its headers — which say the
 * same whatever the database: they run once, on SQLite. Every path that reads or writes data runs on both
 * (`describeInBrowser`).
 */
export function describePageInBrowser(name: string, fn: (env: BrowserEnv) => void): void {
  describeOn(DIALECTS.slice(0, 1), name, fn, {});
}

function describeOn(
  dialects: DialectName[],
  name: string,
  fn: (env: BrowserEnv) => void,
  configOverrides: Partial<Config>,
): void {
  const run = executablePath ? describe.each(dialects) : describe.skip.each(dialects);
  run(`${name} [%s]`, (dialect) => {
    const h = new Harness(dialect);
    let browser: Browser;
    /** contexts the file's earlier tests used, cleared, to reuse; the ones the current test has */
    const idle: BrowserContext[] = [];
    let inUse: BrowserContext[] = [];
    let page: Page | null = null;
    let problems: string[] = [];
    let allowed: string[] = [];
    const env: BrowserEnv = {
      h,
      baseUrl: '',
      async open(viewport = DEFAULT_VIEWPORT, options = {}) {
        // a new context cost 0.7–0.8 s and the first sign-in page in it 0.3 s more than one that has the
        // UI's chunks cached (measured alone on this 2-core machine): most tests open one or two
        let context = options.coldCache ? undefined : idle.pop();
        if (!context) {
          context = await browser.newContext({
            viewport: DEFAULT_VIEWPORT,
            baseURL: env.baseUrl,
            reducedMotion: 'reduce',
          });
          await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: env.baseUrl });
        }
        inUse.push(context);
        page = await context.newPage();
        if (viewport.width !== DEFAULT_VIEWPORT.width || viewport.height !== DEFAULT_VIEWPORT.height)
          await page.setViewportSize(viewport);
        page.setDefaultTimeout(10_000);
        page.on('pageerror', (err) => problems.push(`uncaught error: ${err.message}`));
        page.on('console', (msg) => {
          if (msg.type() !== 'error') return;
          const url = msg.location().url;
          const expected =
            msg.text().startsWith('Failed to load resource') &&
            (url.endsWith('/api/v1/me') || allowed.some((a) => url.includes(a)));
          if (!expected) problems.push(`console error: ${msg.text()} (${url})`);
        });
        return page;
      },
      async shot(page, shotName) {
        // CI keeps no artifacts: a full-page screenshot costs ~0.25 s, and the suite takes ~200
        if (!SCREENSHOTS) return;
        fs.mkdirSync(ARTIFACTS, { recursive: true });
        await page.evaluate('window.scrollTo(0, 0)');
        await page.screenshot({ path: path.join(ARTIFACTS, `${dialect}-${shotName}.png`), fullPage: true });
      },
      allowHttpError(urlPart) {
        allowed.push(urlPart);
      },
    };

    beforeAll(async () => {
      // a real browser checks cookie expiry against its own clock: the server's must be today, not the
      // harness's fixed date (sessions set with a fixed past date are dropped by the browser at once)
      h.clock = new ManualClock(Date.now());
      await h.start(configOverrides);
      await h.app.listen({ port: 0, host: '127.0.0.1' });
      const address = h.app.server.address() as { port: number };
      env.baseUrl = `http://127.0.0.1:${address.port}`;
      browser = await chromium.launch({
        executablePath: executablePath!,
        headless: true,
        args: CHROMIUM_FLAGS,
      });
    }, 60_000);
    afterEach(async (test) => {
      if (test.task.result?.state === 'fail' && page) await describeFailure(page, dialect, test.task.name);
      const seen = problems;
      problems = [];
      allowed = [];
      const used = inUse;
      inUse = [];
      page = null;
      for (const context of used) {
        if (await cleared(context, env.baseUrl)) idle.push(context);
        else await context.close();
      }
      expect(seen, 'the page reported script or console errors').toEqual([]);
    });
    afterAll(async () => {
      await browser?.close();
      await h.stop();
    });
    fn(env);
  });
}

const DEFAULT_VIEWPORT = { width: 1280, height: 860 };

/**
 * Readies a context for the next test as a browser nobody has signed in to: its pages closed, no cookies,
 * local and session storage emptied (the UI keeps list columns there). Answers false when it cannot tell that
 * storage is empty (no page of it was on the server's origin): such a context is closed, not reused.
 */
async function cleared(context: BrowserContext, origin: string): Promise<boolean> {
  try {
    const pages = context.pages();
    const onOrigin = pages.find((p) => p.url().startsWith(origin));
    if (onOrigin) await onOrigin.evaluate('localStorage.clear(); sessionStorage.clear()');
    for (const p of pages) await p.close();
    await context.clearCookies();
    return onOrigin !== undefined;
  } catch {
    return false;
  }
}

/**
 * What the page showed when a test failed: its address and text in the test's output (which CI
 * keeps), and a screenshot in test-artifacts/ (which only a local run keeps).
 */
async function describeFailure(page: Page, dialect: string, testName: string): Promise<void> {
  try {
    // biome-ignore lint/performance/useDomNodeTextContent: what a reader sees (textContent includes Mantine's styles)
    const text = (await page.locator('body').innerText({ timeout: 2_000 }))
      .replace(/\s+/g, ' ')
      .slice(0, 1_500);
    console.error(`[browser ${dialect}] "${testName}" failed on ${page.url()}\n  the page read: ${text}`);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const file = `${dialect}-failed-${testName.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}.png`;
    await page.screenshot({ path: path.join(ARTIFACTS, file), fullPage: true, timeout: 5_000 });
  } catch (err) {
    console.error(
      `[browser ${dialect}] "${testName}": the page could not be read (${(err as Error).message})`,
    );
  }
}

/**
 * Signs in through the login form and waits for the settings home (the tests of settings pages start there;
 * without `next` a user lands on Home, see `signInHome`).
 */
export async function signIn(page: Page, username: string, password: string): Promise<void> {
  await page.goto('/login?next=%2Fsettings');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel(/^Password/).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
}

/** True when the running server registered `METHOD url` (features land on main independently). */
export function hasRoute(h: Harness, method: string, url: string): boolean {
  return h.app.registeredRoutes.some((r) => r.method === method && r.url === url);
}

/** Signs in through the login form as a person would (no `next`) and waits for the Home page. */
export async function signInHome(page: Page, username: string, password: string): Promise<void> {
  await page.goto('/login');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel(/^Password/).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Home', level: 1 }).waitFor();
}

const AXE_SOURCE = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: unknown[]; failureSummary?: string }>;
}

/**
 * Runs axe-core (WCAG 2.x A and AA rules) on the page as it is now and fails on any serious or critical
 * violation, listing each with the elements it found, so the message says what to fix.
 */
export async function expectAccessible(page: Page, where: string): Promise<void> {
  // evaluated through the DevTools protocol: the UI's Content-Security-Policy (script-src 'self') rightly
  // refuses an inline <script> such as addScriptTag's, and the test must not loosen it
  const loaded = await page.evaluate('typeof window.axe === "object"');
  if (!loaded) await page.evaluate(`${AXE_SOURCE}\n;0`);
  const violations = (await page.evaluate(`window.axe
    .run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
      resultTypes: ['violations'],
    })
    .then((r) => r.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => ({ target: n.target, failureSummary: n.failureSummary })),
    })))`)) as AxeViolation[];
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const report = bad
    .map(
      (v) =>
        `${v.impact} ${v.id}: ${v.help}\n${v.nodes.map((n) => `    ${JSON.stringify(n.target)} ${n.failureSummary ?? ''}`).join('\n')}`,
    )
    .join('\n');
  expect(bad.length, `axe found serious or critical violations on ${where}:\n${report}`).toBe(0);
}
