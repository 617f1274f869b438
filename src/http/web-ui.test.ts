import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { beforeAll, expect, it } from 'vitest';
import { ensureWebBuild } from '../../test/builds.js';
import { describeEachDialect, expectStatus } from '../../test/harness.js';
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
      expect(res.body).toContain('<div id="root">');
    }
  });

  it('serves the app at / whatever the client accepts', async () => {
    const variants: Array<Record<string, string>> = [{}, { accept: '*/*' }, { accept: 'application/json' }];
    for (const headers of variants) {
      const res = await h.request({ method: 'GET', url: '/', headers });
      expectStatus(res, 200);
      expect(res.headers['content-type']).toMatch(/text\/html/);
      expect(res.body).toContain('<div id="root">');
    }
    const head = await h.request({ method: 'HEAD', url: '/?from=monitor' });
    expectStatus(head, 200);
  });

  it('shows a boot indicator in the shell until the app replaces it', async () => {
    const res = await h.request({ method: 'GET', url: '/login', headers: html });
    expect(res.body).toMatch(/<div id="root">\s*<div class="boot" role="status"/);
    expect(res.body).toContain('Loading Rapport…');
  });

  it('sends assets precompressed (brotli, else gzip) to a client that accepts it, identical once decoded', async () => {
    const dir = path.join(DEFAULT_WEB_ROOT, 'assets');
    const asset = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.js'))
      .sort((a, b) => fs.statSync(path.join(dir, b)).size - fs.statSync(path.join(dir, a)).size)[0]!;
    const original = fs.readFileSync(path.join(dir, asset));
    const br = await h.request({
      method: 'GET',
      url: `/assets/${asset}`,
      headers: { 'accept-encoding': 'gzip, br' },
    });
    expectStatus(br, 200);
    expect(br.headers['content-encoding']).toBe('br');
    expect(String(br.headers.vary)).toMatch(/accept-encoding/i);
    expect(br.headers['content-type']).toMatch(/javascript/);
    expect(br.rawPayload.length).toBeLessThan(original.length / 2);
    expect(zlib.brotliDecompressSync(br.rawPayload).equals(original)).toBe(true);

    const gz = await h.request({
      method: 'GET',
      url: `/assets/${asset}`,
      headers: { 'accept-encoding': 'gzip' },
    });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(zlib.gunzipSync(gz.rawPayload).equals(original)).toBe(true);

    const plain = await h.request({
      method: 'GET',
      url: `/assets/${asset}`,
      headers: { 'accept-encoding': 'identity' },
    });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.rawPayload.equals(original)).toBe(true);

    // the shell too (index.html.br is written beside it)
    const shell = await h.request({
      method: 'GET',
      url: '/login',
      headers: { ...html, 'accept-encoding': 'br' },
    });
    expect(shell.headers['content-encoding']).toBe('br');
    expect(zlib.brotliDecompressSync(shell.rawPayload).toString()).toContain('<div id="root">');
  });

  it('serves hashed assets with a long cache', async () => {
    const asset = fs.readdirSync(path.join(DEFAULT_WEB_ROOT, 'assets')).find((f) => f.endsWith('.js'))!;
    const res = await h.request({ method: 'GET', url: `/assets/${asset}` });
    expectStatus(res, 200);
    expect(res.headers['cache-control']).toContain('immutable');
    const missing = await h.request({ method: 'GET', url: '/assets/no-such-chunk-0000.js' });
    expectStatus(missing, 404);
  });

  it('serves the favicon, whose name has no hash, with a cache of an hour, not a year', async () => {
    const res = await h.request({ method: 'GET', url: '/favicon.svg' });
    expectStatus(res, 200);
    expect(res.headers['content-type']).toMatch(/image\/svg\+xml/);
    expect(res.headers['cache-control']).toBe('public, max-age=3600');
    expect(res.body).toBe(fs.readFileSync(path.join(DEFAULT_WEB_ROOT, 'favicon.svg'), 'utf8'));
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
