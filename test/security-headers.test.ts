import { expect, it } from 'vitest';
import { describeEachDialect } from './harness.js';

const COMMON = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
};

describeEachDialect('security headers (issue 14, finding 7)', (h) => {
  it.each([
    ['the API', '/api/v1/me', {}],
    ['an API error', '/api/v1/nothing-here', {}],
    ['the UI shell', '/settings/users', { accept: 'text/html' }],
    ['the health check', '/healthz', {}],
    ['the OpenAPI document', '/api/openapi.json', {}],
  ])(
    '%s carries CSP without inline scripts, no framing, nosniff, a referrer policy',
    async (_n, url, headers) => {
      const res = await h.request({ method: 'GET', url, as: h.admin, headers });
      expect(res.headers).toMatchObject(COMMON);
      const csp = String(res.headers['content-security-policy']);
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self';");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("object-src 'none'");
      expect(res.headers['strict-transport-security']).toBeUndefined();
    },
  );

  it('Swagger UI gets a CSP that lets its own hashed inline code run, and no framing', async () => {
    for (const url of ['/api/docs/', '/api/docs/static/index.html']) {
      const res = await h.request({ method: 'GET', url });
      if (res.statusCode >= 300 && res.statusCode < 400) continue;
      expect(res.headers).toMatchObject(COMMON);
      const csp = String(res.headers['content-security-policy']);
      // Swagger UI 5 loads its initializer from a file: no inline script, so none is allowed
      expect(csp).toMatch(/script-src 'self'( 'sha256-[^']+')*;/);
      expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('upgrade-insecure-requests');
    }
  });
});

describeEachDialect(
  'HSTS only over HTTPS',
  (h) => {
    it('is sent when a trusted proxy says the request came over HTTPS, not over plain HTTP', async () => {
      const plain = await h.request({ method: 'GET', url: '/healthz' });
      expect(plain.headers['strict-transport-security']).toBeUndefined();
      const tls = await h.request({
        method: 'GET',
        url: '/healthz',
        headers: { 'x-forwarded-proto': 'https' },
      });
      expect(tls.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    });
  },
  { trustProxy: true },
);
