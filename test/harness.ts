import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe } from 'vitest';
import { type Config, parseConfig } from '../src/config.js';
import { type AppContext, type ContextOverrides, closeContext, createContext } from '../src/context.js';
import { type DialectName, openDatabase } from '../src/db/database.js';
import { type App, buildApp } from '../src/http/app.js';
import { ManualClock } from '../src/platform/clock.js';
import { createLogger } from '../src/platform/logger.js';
import { ensureInitialAdmin } from '../src/users/bootstrap.js';

export const PG_URL = process.env.RAPPORT_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const requirePg = process.env.RAPPORT_TEST_REQUIRE_PG === '1';

async function postgresReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

const pgUp = await postgresReachable();
if (!pgUp && requirePg)
  throw new Error(`PostgreSQL is required (RAPPORT_TEST_REQUIRE_PG=1) but ${PG_URL} is not reachable`);
if (!pgUp)
  console.warn(
    `[test] PostgreSQL at ${PG_URL} is not reachable: PostgreSQL runs of database tests are skipped`,
  );

/** Every database test runs once per dialect: SQLite always, PostgreSQL whenever it is reachable (required in CI). */
export const DIALECTS: DialectName[] = pgUp ? ['sqlite', 'postgres'] : ['sqlite'];

export const ADMIN_PASSWORD = 'admin-password-for-tests';

export interface Session {
  cookie: string;
  csrfToken: string;
  userId: number;
}

export interface TestUser {
  id: number;
  username: string;
  password: string;
  session: Session;
}

export type RequestOptions = Omit<InjectOptions, 'headers'> & {
  as?: Session | null;
  headers?: Record<string, string>;
  /** leave out the CSRF header on a cookie-authenticated write */
  noCsrf?: boolean;
};

export class Harness {
  app!: App;
  ctx!: AppContext;
  clock = new ManualClock(Date.UTC(2026, 10, 23, 9, 0, 0));
  logs: string[] = [];
  admin!: Session;
  private schema: string | undefined;
  private counter = 0;

  /**
   * `sqliteFile`: SQLite in a file in the data directory instead of in memory, so reads that go to the
   * report workers (`db.readPool`) run there as in production.
   */
  constructor(
    readonly dialect: DialectName,
    readonly opts: { sqliteFile?: boolean } = {},
  ) {}

  async start(configOverrides: Partial<Config> = {}, contextOverrides: ContextOverrides = {}): Promise<void> {
    const config: Config = {
      ...parseConfig({ LOG_LEVEL: 'info' }),
      dataDir: mkdtempSync(path.join(tmpdir(), 'rapport-test-')),
      secretKeyHex: randomBytes(32).toString('hex'),
      fastPasswordHashing: true,
      adminPassword: ADMIN_PASSWORD,
      ...configOverrides,
    };
    const sink = new Writable({
      write: (chunk, _enc, cb) => {
        this.logs.push(String(chunk));
        cb();
      },
    });
    let db: ReturnType<typeof openDatabase>;
    if (this.dialect === 'sqlite') {
      db = openDatabase({
        kind: 'sqlite',
        file: this.opts.sqliteFile ? path.join(config.dataDir, 'rapport.db') : ':memory:',
      });
    } else {
      this.schema = `t_${randomBytes(6).toString('hex')}`;
      const admin = new pg.Client({ connectionString: PG_URL });
      await admin.connect();
      await admin.query(`create schema ${this.schema}`);
      await admin.end();
      db = openDatabase({ kind: 'postgres', url: PG_URL, schema: this.schema, poolSize: 4 });
    }
    this.ctx = await createContext(config, {
      ...contextOverrides,
      db,
      logger: createLogger('info', sink),
      clock: this.clock,
    });
    await ensureInitialAdmin(this.ctx);
    this.app = await buildApp(this.ctx);
    await this.app.ready();
    this.admin = await this.login('admin', ADMIN_PASSWORD);
  }

  async stop(): Promise<void> {
    await this.app?.close();
    if (this.ctx) await closeContext(this.ctx);
    if (this.schema) {
      const admin = new pg.Client({ connectionString: PG_URL });
      await admin.connect();
      await admin.query(`drop schema ${this.schema} cascade`);
      await admin.end();
    }
  }

  async request(opts: RequestOptions): Promise<LightMyRequestResponse> {
    const { as, noCsrf, headers = {}, ...rest } = opts;
    const h: Record<string, string> = { ...headers };
    if (as) {
      h.cookie = as.cookie;
      if (!noCsrf) h['x-csrf-token'] = as.csrfToken;
    }
    return this.app.inject({ ...rest, headers: h } as InjectOptions);
  }

  async login(username: string, password: string): Promise<Session> {
    const res = await this.request({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username, password },
    });
    if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`);
    const setCookie = res.headers['set-cookie'];
    const raw = Array.isArray(setCookie) ? setCookie[0]! : String(setCookie);
    const body = res.json() as { user: { id: number }; csrfToken: string };
    return { cookie: raw.split(';')[0]!, csrfToken: body.csrfToken, userId: body.user.id };
  }

  /** A new user with a unique name, signed in. */
  async createUser(fields: Record<string, unknown> = {}): Promise<TestUser> {
    const username = `user${++this.counter}_${randomBytes(3).toString('hex')}`;
    const password = `pw-${randomBytes(8).toString('hex')}`;
    const res = await this.request({
      method: 'POST',
      url: '/api/v1/users',
      as: this.admin,
      payload: { username, password, lastName: 'Tester', email: `${username}@example.com`, ...fields },
    });
    if (res.statusCode !== 201) throw new Error(`create user failed: ${res.statusCode} ${res.body}`);
    const id = (res.json() as { id: number }).id;
    return { id, username, password, session: await this.login(username, password) };
  }

  /** The id of the role named `name` (one of the seeded roles: `Sales Manager`, `Sales Person`…). */
  async roleId(name: string): Promise<number> {
    const row = await this.ctx.db.kysely
      .selectFrom('roles')
      .select('id')
      .where('name', '=', name)
      .executeTakeFirstOrThrow();
    return row.id;
  }

  /** A profile with `permissions` and a role that has it, under `parentId` (default: the CEO's role). */
  async createRole(
    name: string,
    permissions: Record<string, { view: boolean; create: boolean; edit: boolean; delete: boolean }>,
    parentId = 2,
  ): Promise<{ roleId: number; profileId: number }> {
    const profile = await this.request({
      method: 'POST',
      url: '/api/v1/profiles',
      as: this.admin,
      payload: { name: `${name} profile`, permissions },
    });
    if (profile.statusCode !== 201)
      throw new Error(`create profile failed: ${profile.statusCode} ${profile.body}`);
    const profileId = (profile.json() as { id: number }).id;
    const role = await this.request({
      method: 'POST',
      url: '/api/v1/roles',
      as: this.admin,
      payload: { name, parentId, profileIds: [profileId] },
    });
    if (role.statusCode !== 201) throw new Error(`create role failed: ${role.statusCode} ${role.body}`);
    return { roleId: (role.json() as { id: number }).id, profileId };
  }

  /** The caller's own access key, revealed through the API. */
  async accessKey(as: Session): Promise<string> {
    const res = await this.request({ method: 'GET', url: '/api/v1/users/me/access-key', as });
    if (res.statusCode !== 200) throw new Error(`reading key failed: ${res.statusCode} ${res.body}`);
    return (res.json() as { accessKey: string }).accessKey;
  }

  allLogs(): string {
    return this.logs.join('');
  }
}

/** Runs `fn` once per dialect with a fresh app and database for that dialect. */
export function describeEachDialect(
  name: string,
  fn: (h: Harness) => void,
  configOverrides: Partial<Config> = {},
  opts: { alsoSqliteFile?: boolean } = {},
): void {
  const variants: Array<[string, DialectName, boolean]> = DIALECTS.map((d) => [d, d, false]);
  // SQLite once more on a file: what the report workers (off the event loop) read
  if (opts.alsoSqliteFile) variants.splice(1, 0, ['sqlite file', 'sqlite', true]);
  describe.each(variants)(`${name} [%s]`, (_label, dialect, sqliteFile) => {
    const h = new Harness(dialect, { sqliteFile });
    beforeAll(() => h.start(configOverrides), 60_000);
    afterAll(() => h.stop());
    fn(h);
  });
}

/** Polls `cond` every 5 ms until it holds or `ms` pass; answers whether it held (something another process does). */
export async function eventually(cond: () => boolean, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  return cond();
}

/** Fails with the response body in the message, so a failing test shows what the server said. */
export function expectStatus(res: LightMyRequestResponse, status: number): void {
  if (res.statusCode !== status) {
    throw new Error(`expected HTTP ${status}, got ${res.statusCode}: ${res.body}`);
  }
}

export function errorCode(res: LightMyRequestResponse): string | undefined {
  try {
    return (res.json() as { error?: { code?: string } }).error?.code;
  } catch {
    return undefined;
  }
}

/** `describeEachDialect`, with SQLite once more on a file, where report reads run on the report workers. */
export function describeReportDbs(name: string, fn: (h: Harness) => void): void {
  describeEachDialect(name, fn, {}, { alsoSqliteFile: true });
}

/** Counts this process's socket writes to PostgreSQL while `run` runs. */
export async function pgWritesDuring(run: () => Promise<unknown>): Promise<number> {
  const port = Number(new URL(PG_URL).port || 5432);
  let writes = 0;
  const count = (original: (...args: never[]) => unknown) =>
    function (this: net.Socket, ...args: never[]) {
      if (this.remotePort === port) writes++;
      return original.apply(this, args);
    };
  const proto = net.Socket.prototype as unknown as Record<
    '_write' | '_writev',
    (...args: never[]) => unknown
  >;
  const { _write, _writev } = proto;
  proto._write = count(_write);
  proto._writev = count(_writev);
  try {
    await run();
  } finally {
    proto._write = _write;
    proto._writev = _writev;
  }
  return writes;
}
