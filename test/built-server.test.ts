import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { DIALECTS } from './harness.js';
import { BUILT_CLI, login, startServer } from './process.js';
import { databaseEnv } from './process-databases.js';

// Every process test runs the esbuild bundle `npm start` runs (bin/build.js; the tests' global setup
// rebuilds it when a server input changed). This one checks the whole of it against each database, so a
// module the bundle cannot carry (a path relative to a module, a worker, a lazy import) fails here and not
// in production.
const ADMIN_PASSWORD = 'built-server-admin-password';

describe.each(DIALECTS)('the built server [%s]', (dialect) => {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of cleanups) await c();
  });

  it('serves the UI, sessions, REST records and web services, and stops cleanly', async () => {
    const { env, cleanup } = await databaseEnv(dialect);
    cleanups.push(cleanup);
    const server = await startServer({ ...env, RAPPORT_ADMIN_PASSWORD: ADMIN_PASSWORD }, BUILT_CLI);
    try {
      const page = await fetch(`${server.url}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<div id="root">');
      const openapi = (await (await fetch(`${server.url}/api/openapi.json`)).json()) as { paths: object };
      expect(Object.keys(openapi.paths)).toContain('/api/v1/auth/login');
      // zod validation through the type provider: a body without a password is a 400, not a 500
      const invalid = await fetch(`${server.url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin' }),
      });
      expect(invalid.status).toBe(400);

      // argon2 (native), the session and the encrypted access key
      const admin = await login(server.url, 'admin', ADMIN_PASSWORD);
      expect(admin.status).toBe(200);
      const keyRes = await fetch(`${server.url}/api/v1/users/me/access-key`, {
        headers: { cookie: admin.cookie },
      });
      expect(keyRes.status).toBe(200);
      const { accessKey } = (await keyRes.json()) as { accessKey: string };

      // the single write path (history, events, search index) and the presenter
      const auth = { authorization: `Bearer ${accessKey}`, 'content-type': 'application/json' };
      const created = await fetch(`${server.url}/api/v1/records/Contacts`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ lastname: 'Bundled', firstname: 'Bea', email: 'bea@example.org' }),
      });
      expect(created.status).toBe(201);
      const { id } = (await created.json()) as { id: number };
      const read = await fetch(`${server.url}/api/v1/records/Contacts/${id}`, { headers: auth });
      expect(read.status).toBe(200);
      expect(await read.json()).toMatchObject({ lastname: 'Bundled', email: 'bea@example.org' });

      // the Vtiger web-services protocol: challenge, login with the key, VTQL
      const ws = async (params: Record<string, string>, method = 'GET') => {
        const body = new URLSearchParams(params);
        const res =
          method === 'GET'
            ? await fetch(`${server.url}/webservice.php?${body}`)
            : await fetch(`${server.url}/webservice.php`, { method, body });
        return (await res.json()) as { success: boolean; result: Record<string, unknown> & unknown[] };
      };
      const challenge = await ws({ operation: 'getchallenge', username: 'admin' });
      expect(challenge.success).toBe(true);
      const token = String(challenge.result.token);
      const wsLogin = await ws(
        {
          operation: 'login',
          username: 'admin',
          accessKey: createHash('md5')
            .update(token + accessKey)
            .digest('hex'),
        },
        'POST',
      );
      expect(wsLogin.success).toBe(true);
      const query = await ws({
        operation: 'query',
        sessionName: String(wsLogin.result.sessionName),
        query: "SELECT lastname FROM Contacts WHERE email = 'bea@example.org';",
      });
      expect(query).toMatchObject({ success: true, result: [{ lastname: 'Bundled' }] });
    } finally {
      expect(await server.stop('SIGTERM')).toBe(0);
    }
    expect(server.output()).toContain('"msg":"shutting down: finishing in-flight requests"');
  });

  // Start-up time is mostly loading packages (docs/performance.md, "Start-up"): a package loaded for nothing
  // shows here. Node's debug logs name every file the process loads: `module` the CommonJS ones, `esm` the
  // ES modules (smtp-server is one, and was missing from the first version of this test, which only read
  // `module`).
  it('loads no package at start-up that it does not use', async () => {
    const { env, cleanup } = await databaseEnv(dialect);
    cleanups.push(cleanup);
    const server = await startServer({ ...env, NODE_DEBUG: 'module,esm' }, BUILT_CLI);
    await server.stop('SIGTERM');
    const loaded = (pkg: string) => server.output().includes(`/node_modules/${pkg}/`);
    expect(loaded('fastify')).toBe(true); // the CommonJS log is there
    expect(loaded('kysely')).toBe(false); // inlined in the bundle
    expect(server.output()).toMatch(/^ESM \d+: /m); // the ES module log is there
    // zod validates and serialises: Fastify's default Ajv compilers are never built
    expect(loaded('@fastify/ajv-compiler')).toBe(false);
    expect(loaded('ajv')).toBe(false);
    // the PostgreSQL driver only on PostgreSQL
    expect(loaded('pg')).toBe(dialect === 'postgres');
    // the SMTP intake's server only when SMTP_INTAKE_PORT is set
    expect(loaded('smtp-server')).toBe(false);
  });
});
