import { createHash, randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify';
import type { AppContext } from '../src/context.js';
import { wsOperations } from '../src/webservices/ops/index.js';
import { webserviceRoutes } from '../src/webservices/webservice.routes.js';
import type { WsKeyFunctions } from '../src/webservices/ws-deps.js';
import type { Harness } from './harness.js';

/** An in-memory stand-in for the access-key service, honouring the same contract. */
export class FakeKeys implements WsKeyFunctions {
  private keys = new Map<number, { keyId: number; plaintext: string; apiAccess: boolean }>();
  private nextId = 1;
  used: Array<{ keyId: number; ip: string }> = [];

  key(userId: number): string {
    let k = this.keys.get(userId);
    if (!k) {
      k = { keyId: this.nextId++, plaintext: randomBytes(12).toString('base64url'), apiAccess: true };
      this.keys.set(userId, k);
    }
    return k.plaintext;
  }
  regenerate(userId: number): string {
    this.keys.delete(userId);
    return this.key(userId);
  }
  clear(userId: number): void {
    this.keys.delete(userId);
  }
  setApiAccess(userId: number, on: boolean): void {
    this.key(userId);
    this.keys.get(userId)!.apiAccess = on;
  }
  async loadKeyForSignIn(_ctx: AppContext, userId: number) {
    return this.keys.get(userId) ?? null;
  }
  async currentKeyId(_db: unknown, userId: number) {
    const k = this.keys.get(userId);
    return k?.apiAccess ? k.keyId : null;
  }
  noteKeyUse(_ctx: AppContext, keyId: number, ip: string): void {
    this.used.push({ keyId, ip });
  }
}

/** The real access-key service, driven through its REST routes as an admin. */
export class RealKeys {
  private enabled = new Set<number>();
  constructor(private readonly h: Harness) {}

  private async ensureApiAccess(userId: number): Promise<void> {
    if (this.enabled.has(userId)) return;
    const url = `/api/v1/users/${userId}/api-access`;
    const res = await this.h.request({ method: 'PUT', url, as: this.h.admin, payload: { enabled: true } });
    if (res.statusCode !== 200) throw new Error(`api access: ${res.statusCode} ${res.body}`);
    this.enabled.add(userId);
  }

  async key(userId: number): Promise<string> {
    await this.ensureApiAccess(userId);
    const res = await this.h.request({
      method: 'GET',
      url: `/api/v1/users/${userId}/access-key`,
      as: this.h.admin,
    });
    if (res.statusCode !== 200) throw new Error(`access key: ${res.statusCode} ${res.body}`);
    return (res.json() as { accessKey: string }).accessKey;
  }

  async regenerate(userId: number): Promise<string> {
    const url = `/api/v1/users/${userId}/access-key/regenerate`;
    const res = await this.h.request({ method: 'POST', url, as: this.h.admin });
    if (res.statusCode !== 200) throw new Error(`regenerate: ${res.statusCode} ${res.body}`);
    return (res.json() as { accessKey: string }).accessKey;
  }
}

export interface WsResponse {
  status: number;
  body: string;
  contentType: string | undefined;
  // biome-ignore lint/suspicious/noExplicitAny: envelopes are checked field by field in tests
  json: any;
}

export const md5 = (s: string) => createHash('md5').update(s).digest('hex');

/**
 * Talks to `/webservice.php` the way a Vtiger client does: GET query strings and form-encoded POSTs. By
 * default against the endpoint alone with an in-memory key store (key states set directly); with
 * `RealKeys`, against the harness's full app and the real access-key service.
 */
export class WsKit<K extends FakeKeys | RealKeys = FakeKeys> {
  app!: FastifyInstance;
  readonly keys: K;
  constructor(
    readonly h: Harness,
    keys?: (h: Harness) => K,
  ) {
    this.keys = keys ? keys(h) : (new FakeKeys() as K);
  }

  async start(): Promise<void> {
    if (this.keys instanceof RealKeys) {
      this.app = this.h.app;
      return;
    }
    this.app = Fastify({ logger: false, trustProxy: false });
    await webserviceRoutes(this.app, this.h.ctx, { keys: this.keys }, wsOperations());
    await this.app.ready();
  }

  async stop(): Promise<void> {
    if (this.app !== this.h.app) await this.app?.close();
  }

  async get(params: Record<string, string>): Promise<WsResponse> {
    return wrap(
      await this.app.inject({ method: 'GET', url: `/webservice.php?${new URLSearchParams(params)}` }),
    );
  }

  async post(params: Record<string, string>, query: Record<string, string> = {}): Promise<WsResponse> {
    const qs = Object.keys(query).length ? `?${new URLSearchParams(query)}` : '';
    return wrap(
      await this.app.inject({
        method: 'POST',
        url: `/webservice.php${qs}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams(params).toString(),
      }),
    );
  }

  async challenge(username: string): Promise<string> {
    const res = await this.get({ operation: 'getchallenge', username });
    if (!res.json?.success) throw new Error(`getchallenge failed: ${res.body}`);
    return res.json.result.token as string;
  }

  /** getchallenge + login with the user's current key; returns the sessionName. */
  async login(username: string, userId: number): Promise<string> {
    const token = await this.challenge(username);
    const res = await this.post({
      operation: 'login',
      username,
      accessKey: md5(token + (await this.keys.key(userId))),
    });
    if (!res.json?.success) throw new Error(`login failed: ${res.body}`);
    return res.json.result.sessionName as string;
  }
}

function wrap(res: LightMyRequestResponse): WsResponse {
  let json: unknown = null;
  try {
    json = JSON.parse(res.body);
  } catch {}
  return { status: res.statusCode, body: res.body, contentType: res.headers['content-type'] as string, json };
}
