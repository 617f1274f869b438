import { beforeAll } from 'vitest';
import { describeEachDialect, type TestUser } from './harness.js';
import { impersonationCases, securityMatrix, sessionCases } from './security-matrix.js';

describeEachDialect('security matrix', (h) => {
  let user: TestUser;
  let other: TestUser;
  beforeAll(async () => {
    user = await h.createUser();
    other = await h.createUser();
  });
  securityMatrix(
    h,
    () => [...sessionCases(() => user.session), ...impersonationCases()],
    () => other.id,
  );
});
