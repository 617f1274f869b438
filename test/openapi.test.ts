import { expect, it } from 'vitest';
import { describeEachDialect, expectStatus } from './harness.js';

describeEachDialect('API documentation', (h) => {
  it('serves OpenAPI 3.1 generated from the route schemas', async () => {
    const res = await h.request({ method: 'GET', url: '/api/openapi.json' });
    expectStatus(res, 200);
    const doc = res.json();
    expect(doc.openapi).toBe('3.1.0');
    for (const route of h.app.registeredRoutes.filter((r) => r.url.startsWith('/api/v1/'))) {
      const path = route.url.replace(/:(\w+)/g, '{$1}');
      expect(
        doc.paths[path]?.[route.method.toLowerCase()],
        `${route.method} ${path} documented`,
      ).toBeDefined();
    }
    expect(JSON.stringify(doc.paths['/api/v1/users'].post)).toContain('username');
  });

  it('serves interactive docs at /api/docs', async () => {
    const res = await h.request({ method: 'GET', url: '/api/docs/' });
    expectStatus(res, 200);
    expect(res.headers['content-type']).toContain('text/html');
  });
});
