import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { describeEachDialect, expectStatus } from '../../test/harness.js';
import { ensureWebBuild } from '../../test/web-build.js';
import { DEFAULT_WEB_ROOT } from './web-ui.js';

const html = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };

beforeAll(() => ensureWebBuild());

describeEachDialect('web UI serving', (h) => {
  it('serves the app shell for deep links that ask for HTML, uncached', async () => {
    for (const url of ['/', '/login', '/settings/users/3', '/settings/api-management?x=1']) {
      const res = await h.request({ method: 'GET', url, headers: html });
      expectStatus(res, 200);
      expect(res.headers['content-type']).toMatch(/text\/html/);
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.body).toContain('<div id="root"></div>');
    }
  });

  it('serves hashed assets with a long cache', async () => {
    const asset = fs.readdirSync(path.join(DEFAULT_WEB_ROOT, 'assets')).find((f) => f.endsWith('.js'))!;
    const res = await h.request({ method: 'GET', url: `/assets/${asset}` });
    expectStatus(res, 200);
    expect(res.headers['cache-control']).toContain('immutable');
  });

  it('keeps misses under /api, /webservice.php and /healthz as JSON 404s, even for browsers', async () => {
    for (const url of ['/api/v1/nope', '/api', '/api/nope', '/webservice.php/x', '/healthz/x']) {
      const res = await h.request({ method: 'GET', url, headers: html });
      expectStatus(res, 404);
      expect(res.json()).toMatchObject({ error: { code: 'ROUTE_NOT_FOUND' } });
    }
  });

  it('answers a non-HTML request for an unknown path with a JSON 404', async () => {
    const res = await h.request({ method: 'GET', url: '/settings', headers: { accept: 'application/json' } });
    expectStatus(res, 404);
    const post = await h.request({ method: 'POST', url: '/settings', headers: html, payload: {} });
    expectStatus(post, 404);
    expect(post.json()).toMatchObject({ error: { code: 'ROUTE_NOT_FOUND' } });
  });
});
