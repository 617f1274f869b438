import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PG_URL } from './harness.js';
import { type RunningServer, startServer } from './process.js';
import { scratchDatabase } from './scratch-database.js';

/** Talks HTTP to a running Rapport (a replica or the proxy in front of them) the way a client does. */
export interface Call {
  method?: string;
  cookie?: string;
  csrf?: string;
  key?: string;
  /** a client address: replicas believe X-Forwarded-For from loopback (TRUST_PROXY=127.0.0.1) */
  ip?: string;
  body?: unknown;
}

export interface Answer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: checked field by field in tests
  json: any;
  text: string;
  /** the replica nginx chose (`x-upstream`), when the call went through the proxy */
  upstream: string | null;
}

export async function call(base: string, url: string, c: Call = {}): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (c.cookie) headers.cookie = c.cookie;
  if (c.csrf) headers['x-csrf-token'] = c.csrf;
  if (c.key) headers.authorization = `Bearer ${c.key}`;
  if (c.ip) headers['x-forwarded-for'] = c.ip;
  let body: string | undefined;
  if (c.body !== undefined) {
    if (c.body instanceof URLSearchParams) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = c.body.toString();
    } else {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(c.body);
    }
  }
  const res = await fetch(`${base}${url}`, { method: c.method ?? (body ? 'POST' : 'GET'), headers, body });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text, upstream: res.headers.get('x-upstream') };
}

export interface Session {
  cookie: string;
  csrf: string;
  userId: number;
}

export async function signIn(base: string, username: string, password: string, ip?: string) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (ip) headers['x-forwarded-for'] = ip;
  const res = await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ username, password }),
  });
  const body = (await res.json()) as { csrfToken?: string; user?: { id: number } };
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  return { status: res.status, session: { cookie, csrf: body.csrfToken ?? '', userId: body.user?.id ?? 0 } };
}

export interface TestUser {
  id: number;
  username: string;
  password: string;
  email: string;
}

/** A user created by `admin`, with API access on when `api` (their key is then readable by the admin). */
export async function createUser(base: string, admin: Session, api = false): Promise<TestUser> {
  const username = `u_${randomBytes(5).toString('hex')}`;
  const password = `pw-${randomBytes(10).toString('hex')}`;
  const email = `${username}@example.com`;
  const res = await call(base, '/api/v1/users', {
    cookie: admin.cookie,
    csrf: admin.csrf,
    body: { username, password, lastName: 'Replica', email },
  });
  if (res.status !== 201) throw new Error(`create user: ${res.status} ${res.text}`);
  const id = res.json.id as number;
  if (api) {
    const on = await call(base, `/api/v1/users/${id}/api-access`, {
      method: 'PUT',
      cookie: admin.cookie,
      csrf: admin.csrf,
      body: { enabled: true },
    });
    if (on.status !== 200) throw new Error(`api access: ${on.status} ${on.text}`);
  }
  return { id, username, password, email };
}

export async function keyOf(base: string, admin: Session, userId: number): Promise<string> {
  const res = await call(base, `/api/v1/users/${userId}/access-key`, { cookie: admin.cookie });
  if (res.status !== 200) throw new Error(`read key: ${res.status} ${res.text}`);
  return res.json.accessKey as string;
}

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

/** Vtiger web-service login (getchallenge, then md5(token + accessKey)); returns the sessionName. */
export async function wsLogin(base: string, username: string, key: string): Promise<string> {
  const ch = await call(base, `/webservice.php?operation=getchallenge&username=${username}`);
  if (!ch.json?.success) throw new Error(`getchallenge: ${ch.text}`);
  const res = await call(base, '/webservice.php', {
    body: new URLSearchParams({ operation: 'login', username, accessKey: md5(ch.json.result.token + key) }),
  });
  if (!res.json?.success) throw new Error(`ws login: ${res.text}`);
  return res.json.result.sessionName as string;
}

export async function wsCreate(base: string, sessionName: string, element: Record<string, unknown>) {
  return call(base, '/webservice.php', {
    body: new URLSearchParams({
      operation: 'create',
      sessionName,
      elementType: 'Contacts',
      element: JSON.stringify(element),
    }),
  });
}

/** A database of the test's own on the PostgreSQL server, dropped by `drop()`. */
export function freshDatabase(): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  return scratchDatabase(PG_URL, 'rapport_scale');
}

/** Rapport processes with data directories of their own; `restart(i)` starts replica i again on its port. */
export class Replicas {
  readonly servers: RunningServer[] = [];
  private dirs = new Map<RunningServer, string>();
  constructor(private readonly env: Record<string, string>) {}

  async start(count: number, extra: Record<string, string> = {}): Promise<RunningServer[]> {
    const started: RunningServer[] = [];
    const one = async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'rapport-replica-'));
      const s = await startServer({ ...this.env, ...extra, DATA_DIR: dir });
      this.dirs.set(s, dir);
      this.servers.push(s);
      started.push(s);
      return s;
    };
    // the first start creates the schema and the administrator; the others join it
    if (this.servers.length === 0) {
      await one();
      count--;
    }
    await Promise.all(Array.from({ length: count }, one));
    return started;
  }

  /** Starts a stopped replica again, on the same port and data directory (nginx keeps its address). */
  async restart(i: number, extra: Record<string, string> = {}): Promise<RunningServer> {
    const old = this.servers[i]!;
    const port = new URL(old.url).port;
    const dir = this.dirs.get(old)!;
    const s = await startServer({ ...this.env, ...extra, DATA_DIR: dir, PORT: port });
    this.dirs.set(s, dir);
    this.servers[i] = s;
    return s;
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.stop().catch(() => null)));
    for (const d of this.dirs.values()) rmSync(d, { recursive: true, force: true });
  }
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
