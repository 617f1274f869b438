import { beforeAll } from 'vitest';
import { generateAccessKey } from '../src/access-keys/access-key.format.js';
import { describeEachDialect, type TestUser } from './harness.js';
import { type KeyFixtures, keyCases, securityMatrix, sessionCases } from './security-matrix.js';

describeEachDialect(
  'security matrix',
  (h) => {
    let user: TestUser;
    let other: TestUser;
    const keys = {} as KeyFixtures;
    beforeAll(async () => {
      user = await h.createUser();
      other = await h.createUser();
      keys.valid = await h.accessKey(user.session);
      const rotated = await h.createUser();
      keys.revoked = await h.accessKey(rotated.session);
      await h.request({ method: 'POST', url: '/api/v1/users/me/access-key/regenerate', as: rotated.session });
      const off = await h.createUser();
      keys.apiAccessOff = await h.accessKey(off.session);
      await h.request({
        method: 'PUT',
        url: '/api/v1/users/me/api-access',
        as: off.session,
        payload: { enabled: false },
      });
      const inactive = await h.createUser();
      keys.inactiveUser = await h.accessKey(inactive.session);
      await h.request({
        method: 'PATCH',
        url: `/api/v1/users/${inactive.id}`,
        as: h.admin,
        payload: { status: 'Inactive' },
      });
      keys.neverIssued = generateAccessKey();
    });
    securityMatrix(
      h,
      () => [...sessionCases(() => user.session), ...keyCases(() => keys)],
      () => other.id,
    );
  },
  // the matrix sends many failing keys from one address; the per-IP failure throttle has its own test
  {
    accessKeys: {
      perMinute: 100_000,
      maxFailuresPerIp: 1_000_000,
      failureWindowMs: 300_000,
      usageFlushMs: 5000,
    },
  },
);
