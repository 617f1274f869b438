import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../src/config.js';
import { parseTrustProxy } from '../src/http/trust-proxy.js';
import { describeEachDialect, type Harness } from './harness.js';

/** Issue 14, finding 6: per-IP limits behind a proxy must neither trust the client nor lump everyone together. */
describe('TRUST_PROXY values', () => {
  it.each([
    ['false', false],
    ['true', true],
    ['1', 1],
    ['2', 2],
    ['127.0.0.1', ['127.0.0.1']],
    ['10.0.0.0/8, fd00::/8,loopback', ['10.0.0.0/8', 'fd00::/8', 'loopback']],
  ])('%s', (raw, want) => {
    expect(parseTrustProxy(raw)).toEqual(want);
    expect(parseConfig({ TRUST_PROXY: raw }).trustProxy).toEqual(want);
  });

  it.each(['0', 'yes', '10.0.0.0/33', '::1/129', '300.1.1.1', 'proxy.example.com', '10.0.0.0/8/1', ','])(
    'refuses %s, naming the variable',
    (raw) => {
      expect(() => parseConfig({ TRUST_PROXY: raw })).toThrow(ConfigError);
      expect(() => parseConfig({ TRUST_PROXY: raw })).toThrow(/TRUST_PROXY/);
    },
  );
});

const throttle = { maxPerUser: 1000, maxPerIp: 3, windowMs: 900_000 };

async function failLogin(h: Harness, from: string, xff?: string) {
  return h.app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    remoteAddress: from,
    headers: xff ? { 'x-forwarded-for': xff } : {},
    payload: { username: 'nobody-here', password: 'wrong wrong wrong' },
  });
}

async function ipsCounted(h: Harness): Promise<string[]> {
  const rows = await h.ctx.db.kysely
    .selectFrom('auth_failures')
    .select('key')
    .where('scope', '=', 'ip')
    .execute();
  return [...new Set(rows.map((r) => r.key))].sort();
}

describeEachDialect(
  'TRUST_PROXY=1 (one proxy in front)',
  (h) => {
    it('takes the address the proxy saw; a client cannot dodge its per-IP limit by writing X-Forwarded-For', async () => {
      for (const spoof of ['1.1.1.1', '2.2.2.2', '3.3.3.3']) {
        expect((await failLogin(h, '127.0.0.1', `${spoof}, 203.0.113.7`)).statusCode).toBe(401);
      }
      expect((await failLogin(h, '127.0.0.1', '4.4.4.4, 203.0.113.7')).statusCode).toBe(429);
      // another client behind the same proxy is not locked out
      const other = await failLogin(h, '127.0.0.1', '203.0.113.8');
      expect(other.statusCode, other.body).toBe(401);
      expect(await ipsCounted(h)).toEqual(['203.0.113.7', '203.0.113.8']);
    });
  },
  { trustProxy: 1, loginThrottle: throttle },
);

describeEachDialect(
  'TRUST_PROXY=10.0.0.0/8 (a list of proxies)',
  (h) => {
    it('believes X-Forwarded-For only from a listed proxy, and then skips every listed hop', async () => {
      await failLogin(h, '10.1.2.3', '198.51.100.9');
      await failLogin(h, '10.1.2.3', '198.51.100.10, 10.9.9.9');
      await failLogin(h, '192.0.2.1', '198.51.100.11'); // not a listed proxy: its header is ignored
      expect(await ipsCounted(h)).toEqual(['192.0.2.1', '198.51.100.10', '198.51.100.9']);
    });
  },
  { trustProxy: ['10.0.0.0/8'], loginThrottle: throttle },
);

describeEachDialect(
  'TRUST_PROXY=false (no proxy)',
  (h) => {
    it('ignores X-Forwarded-For altogether', async () => {
      await failLogin(h, '192.0.2.5', '198.51.100.9');
      expect(await ipsCounted(h)).toEqual(['192.0.2.5']);
    });
  },
  { trustProxy: false, loginThrottle: throttle },
);
