import fc from 'fast-check';
import { expect, it } from 'vitest';
import { describeEachDialect, errorCode, expectStatus } from './harness.js';

describeEachDialect('error handling', (h) => {
  it('malformed JSON is a 400 with the error shape', async () => {
    const res = await h.request({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'content-type': 'application/json' },
      payload: '{"username": "admin",',
    });
    expectStatus(res, 400);
    expect(errorCode(res)).toBe('MALFORMED_JSON');
    expect(res.json().error.requestId).toEqual(expect.any(String));
  });

  it('an unknown route is a 404 with the error shape', async () => {
    const res = await h.request({ method: 'GET', url: '/api/v1/nothing-here' });
    expectStatus(res, 404);
    expect(errorCode(res)).toBe('ROUTE_NOT_FOUND');
  });

  it('an oversized body is a 413', async () => {
    const big = JSON.stringify({ username: 'a'.repeat(h.ctx.config.bodyLimit + 10), password: 'x' });
    const res = await h.request({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'content-type': 'application/json' },
      payload: big,
    });
    expectStatus(res, 413);
    expect(errorCode(res)).toBe('PAYLOAD_TOO_LARGE');
  });

  it('an unsupported content type is a 415', async () => {
    const res = await h.request({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'content-type': 'text/xml' },
      payload: '<a/>',
    });
    expectStatus(res, 415);
  });

  it('wrong JSON types are a 400 naming the field', async () => {
    const res = await h.request({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 42, password: 'x' },
    });
    expectStatus(res, 400);
    expect(res.json().error.message).toContain('username');
  });

  it('healthz answers ok', async () => {
    const res = await h.request({ method: 'GET', url: '/healthz' });
    expectStatus(res, 200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('arbitrary bytes to the login route never produce a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 200 }),
        fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain'),
        async (payload, type) => {
          const res = await h.request({
            method: 'POST',
            url: '/api/v1/auth/login',
            remoteAddress: '198.51.100.7',
            headers: { 'content-type': type },
            payload,
          });
          expect(res.statusCode).toBeGreaterThanOrEqual(400);
          expect(res.statusCode).toBeLessThan(500);
          expect(errorCode(res)).toEqual(expect.any(String));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('injection attempts in query parameters are plain data', async () => {
    for (const search of ["' OR 1=1 --", "'; DROP TABLE users; --", '%', '\\']) {
      const res = await h.request({
        method: 'GET',
        url: `/api/v1/users?search=${encodeURIComponent(search)}`,
        as: h.admin,
      });
      expectStatus(res, 200);
      expect(res.json().items).toEqual([]);
    }
    expectStatus(await h.request({ method: 'GET', url: '/api/v1/users', as: h.admin }), 200);
  });
});
