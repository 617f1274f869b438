import fc from 'fast-check';
import { expect, it } from 'vitest';
import { describeEachDialect } from '../../test/harness.js';

/** Bad input to the user-administration endpoints is a clear 4xx, never a 5xx, and changes nothing. */
describeEachDialect('user administration under arbitrary input', (h) => {
  const junk = fc.oneof(
    fc.string({ maxLength: 300 }),
    fc.integer(),
    fc.constant(null),
    fc.constant("' OR 1=1 --"),
    fc.object(),
  );
  const cases: Array<[string, string, boolean]> = [
    ['POST', '/api/v1/auth/forgot-password', false],
    ['POST', '/api/v1/auth/reset-password', false],
    ['POST', '/api/v1/auth/verify-email', false],
    ['POST', '/api/v1/users/me/password', true],
    ['PUT', '/api/v1/settings', true],
    ['PATCH', '/api/v1/setup-checklist', true],
    ['POST', '/api/v1/users/1/impersonation-requests', true],
  ];
  it.each(cases)('%s %s answers 4xx to junk', async (method, url, signedIn) => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(
          fc.constantFrom(
            'username',
            'email',
            'token',
            'newPassword',
            'currentPassword',
            'company',
            'steps',
            'reason',
            'x',
          ),
          junk,
        ),
        async (payload) => {
          const res = await h.request({
            method: method as 'POST',
            url,
            payload,
            as: signedIn ? h.admin : null,
            remoteAddress: `203.0.113.${Math.floor(Math.random() * 250)}`,
          });
          expect(res.statusCode, res.body).toBeLessThan(500);
        },
      ),
      { numRuns: 25 },
    );
  });
  it('a junk delete query is a 4xx', async () => {
    for (const q of ['?transferTo=-1', '?transferTo=1e99', '?permanent=maybe', '?transferTo=%00']) {
      const res = await h.request({ method: 'DELETE', url: `/api/v1/users/999${q}`, as: h.admin });
      expect(res.statusCode, res.body).toBeGreaterThanOrEqual(400);
      expect(res.statusCode).toBeLessThan(500);
    }
  });
});
