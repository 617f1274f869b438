import { describe, expect, it } from 'vitest';
import { isSecretRoute } from './impersonation-guard.js';

describe('routes kept out of reach while logged in as another user', () => {
  it.each([
    '/api/v1/users/:id/access-key',
    '/api/v1/users/:id/access-key/regenerate',
    '/api/v1/users/:id/api-access',
    '/api/v1/users/:id/password',
    '/api/v1/users/:id/impersonate',
    '/api/v1/api-access/users',
  ])('%s is guarded', (url) => {
    expect(isSecretRoute(url)).toBe(true);
  });

  it.each(['/api/v1/users/:id', '/api/v1/me', '/api/v1/records/:module', '/api/v1/users/:id/restore'])(
    '%s is not',
    (url) => {
      expect(isSecretRoute(url)).toBe(false);
    },
  );
});
