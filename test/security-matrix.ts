import type { LightMyRequestResponse } from 'fastify';
import { expect, it } from 'vitest';
import type { RegisteredRoute } from '../src/http/types.js';
import { errorCode, type Harness, type Session } from './harness.js';

/**
 * A credential state and what every protected route must answer to it. Features add states (issue 3 adds
 * the access-key states) by extending this list; the matrix runs each against every protected route.
 */
export interface CredentialCase {
  name: string;
  /** headers to send; null means the case does not apply to this route */
  headers(h: Harness, route: RegisteredRoute): Promise<Record<string, string> | null>;
  expect: { status: number; code?: string | RegExp };
}

/**
 * Routes under /users/:id act on that user's own things (key, API access, profile). Only the user and
 * admins may use them; the user directory (GET /users/:id) is readable by every signed-in user.
 */
export function isOtherUsersObject(route: RegisteredRoute): boolean {
  return (
    route.access === 'authenticated' &&
    route.url.includes('/users/:id') &&
    !(route.method === 'GET' && route.url.endsWith('/users/:id'))
  );
}

export function concreteUrl(route: RegisteredRoute, id: number | string): string {
  return route.url.replace(/:id\b/g, String(id)).replace(/:(\w+)/g, 'x');
}

export function bodyFor(route: RegisteredRoute): unknown {
  return ['POST', 'PUT', 'PATCH'].includes(route.method) ? {} : undefined;
}

export const sessionCases = (nonAdmin: () => Session): CredentialCase[] => [
  {
    name: 'no credentials',
    headers: async () => ({}),
    expect: { status: 401, code: 'AUTHENTICATION_REQUIRED' },
  },
  {
    name: 'a forged session cookie',
    headers: async () => ({ cookie: 'rapport_session=forged-token' }),
    expect: { status: 401 },
  },
  {
    name: 'a session without the CSRF token on a write',
    headers: async (_h, route) =>
      ['GET', 'HEAD'].includes(route.method) ? null : { cookie: nonAdmin().cookie },
    expect: { status: 403, code: 'CSRF_TOKEN_INVALID' },
  },
  {
    name: 'a non-admin on an admin route',
    headers: async (_h, route) =>
      route.access === 'admin' ? { cookie: nonAdmin().cookie, 'x-csrf-token': nonAdmin().csrfToken } : null,
    expect: { status: 403, code: 'PERMISSION_DENIED' },
  },
  {
    name: "a non-admin on another user's object",
    headers: async (_h, route) =>
      isOtherUsersObject(route) ? { cookie: nonAdmin().cookie, 'x-csrf-token': nonAdmin().csrfToken } : null,
    expect: { status: 403, code: 'PERMISSION_DENIED' },
  },
];

/** Registers one test per (route, credential case); call inside a describeEachDialect block. */
export function securityMatrix(h: Harness, cases: () => CredentialCase[], targetId: () => number): void {
  it('every /api/v1 route is in the matrix and declares who may call it', () => {
    const api = h.app.registeredRoutes.filter((r) => r.url.startsWith('/api/v1/'));
    expect(api.length).toBeGreaterThan(10);
    const publicRoutes = api.filter((r) => r.access === 'public').map((r) => `${r.method} ${r.url}`);
    expect(publicRoutes).toEqual(['POST /api/v1/auth/login']);
  });

  it('every protected route refuses every bad credential state', async () => {
    const failures: string[] = [];
    let checked = 0;
    const routes = h.app.registeredRoutes.filter((r) => r.access !== 'public');
    for (const route of routes) {
      for (const c of cases()) {
        const headers = await c.headers(h, route);
        if (headers === null) continue;
        checked++;
        const res: LightMyRequestResponse = await h.app.inject({
          method: route.method as 'GET',
          url: concreteUrl(route, targetId()),
          headers,
          payload: bodyFor(route) as never,
        });
        const codeOk =
          c.expect.code === undefined ||
          (typeof c.expect.code === 'string'
            ? errorCode(res) === c.expect.code
            : c.expect.code.test(errorCode(res) ?? ''));
        if (res.statusCode !== c.expect.status || !codeOk) {
          failures.push(`${route.method} ${route.url} with ${c.name}: got ${res.statusCode} ${res.body}`);
        }
      }
    }
    expect(failures).toEqual([]);
    expect(checked).toBeGreaterThan(routes.length * 2);
  });
}

export interface KeyFixtures {
  /** a working key of a non-admin user */
  valid: string;
  /** the previous key of a user whose key was regenerated */
  revoked: string;
  apiAccessOff: string;
  inactiveUser: string;
  /** a well-formed key with a valid checksum that was never issued */
  neverIssued: string;
}

/** Every access-key state an integration can be in, against every protected route. */
export const keyCases = (k: () => KeyFixtures): CredentialCase[] => {
  const bearer = (key: string) => async () => ({ authorization: `Bearer ${key}` });
  const typo = (key: string) => key.slice(0, 10) + (key[10] === 'a' ? 'b' : 'a') + key.slice(11);
  return [
    {
      name: 'a key with a leading space',
      headers: async () => ({ authorization: `Bearer  ${k().valid}` }),
      expect: { status: 401, code: 'ACCESS_KEY_WHITESPACE' },
    },
    {
      name: 'a key with a trailing space (Basic)',
      headers: async () => ({ authorization: `Basic ${Buffer.from(`x:${k().valid} `).toString('base64')}` }),
      expect: { status: 401, code: 'ACCESS_KEY_WHITESPACE' },
    },
    {
      name: 'a malformed key',
      headers: bearer('7IJXiH9gR4FfCPZp'),
      expect: { status: 401, code: 'ACCESS_KEY_MALFORMED' },
    },
    {
      name: 'a mistyped key (bad checksum)',
      headers: async () => ({ authorization: `Bearer ${typo(k().valid)}` }),
      expect: { status: 401, code: 'ACCESS_KEY_CHECKSUM_MISMATCH' },
    },
    {
      name: 'a never-issued key',
      headers: async () => ({ authorization: `Bearer ${k().neverIssued}` }),
      expect: { status: 401, code: 'ACCESS_KEY_INVALID' },
    },
    {
      name: 'a revoked (regenerated) key',
      headers: async () => ({ authorization: `Bearer ${k().revoked}` }),
      expect: { status: 401, code: 'ACCESS_KEY_INVALID' },
    },
    {
      name: 'a key with API access off',
      headers: async () => ({ authorization: `Bearer ${k().apiAccessOff}` }),
      expect: { status: 403, code: 'API_ACCESS_DISABLED' },
    },
    {
      name: "an inactive user's key",
      headers: async () => ({ authorization: `Bearer ${k().inactiveUser}` }),
      expect: { status: 403, code: 'ACCOUNT_INACTIVE' },
    },
    {
      name: 'an unsupported Authorization scheme',
      headers: async () => ({ authorization: `Digest ${k().valid}` }),
      expect: { status: 401, code: 'UNSUPPORTED_AUTH_SCHEME' },
    },
    {
      name: "a non-admin's key on an admin route",
      headers: async (_h, route) =>
        route.access === 'admin' ? { authorization: `Bearer ${k().valid}` } : null,
      expect: { status: 403, code: 'PERMISSION_DENIED' },
    },
    {
      name: "a non-admin's key on another user's object",
      headers: async (_h, route) =>
        isOtherUsersObject(route) ? { authorization: `Bearer ${k().valid}` } : null,
      expect: { status: 403, code: 'PERMISSION_DENIED' },
    },
  ];
};
