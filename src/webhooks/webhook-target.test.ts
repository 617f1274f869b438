import dns from 'node:dns';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { WebhookHttp } from './webhook-http.js';
import { retryDelay } from './webhook-outcomes.js';
import { signedHeaders } from './webhook-signing.js';
import { blockedReason, parseWebhookUrl, TargetPolicy, TargetRefused } from './webhook-target.js';

describe('Standard Webhooks signing', () => {
  it("matches the spec's test vector", () => {
    const headers = signedHeaders(
      'msg_p5jXN8AQM9LWM0D4loKWxJek',
      '{"test": 2432232314}',
      ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
      new Date(1614265330 * 1000),
    );
    expect(headers).toEqual({
      'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      'webhook-timestamp': '1614265330',
      'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    });
  });
});

describe('retry delays', () => {
  it('follow the Svix schedule within ±20 %, and end after the eighth attempt', () => {
    expect(retryDelay(1, () => 0)).toBe(4000);
    expect(retryDelay(1, () => 1)).toBe(6000);
    expect(retryDelay(2, () => 0.5)).toBe(300_000);
    expect(retryDelay(7, () => 0.5)).toBe(36_000_000);
    expect(retryDelay(8, () => 0.5)).toBeNull();
  });
});

describe('SSRF policy', () => {
  it('connections to one host asking while its lookup is under way share it; nothing is kept after', async () => {
    const policy = new TargetPolicy(['localhost', 'receiver.internal']);
    const real = dns.lookup;
    // a name server that answers only when told to: every lookup waits in `held`
    const held: Array<() => void> = [];
    const spy = vi.spyOn(dns, 'lookup').mockImplementation(((
      host: string,
      opts: dns.LookupAllOptions,
      cb: (err: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => void,
    ) => {
      held.push(() =>
        host === 'localhost'
          ? real(host, opts, cb)
          : cb(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' }), []),
      );
    }) as unknown as typeof dns.lookup);
    const ask = (host: string, all = false) =>
      new Promise<{ err: Error | null; address: unknown }>((resolve) =>
        policy.lookup(host, { all }, (err, address) => resolve({ err, address })),
      );
    try {
      const local = Array.from({ length: 20 }, (_, i) => ask('localhost', i % 2 === 0));
      const other = [ask('receiver.internal'), ask('receiver.internal')];
      // one lookup per host however many connections ask
      expect(spy).toHaveBeenCalledTimes(2);
      for (const answer of held.splice(0)) answer();
      for (const { err, address } of await Promise.all(local)) {
        expect(err).toBeNull();
        const first = Array.isArray(address) ? (address[0] as dns.LookupAddress).address : address;
        expect(['127.0.0.1', '::1']).toContain(first);
      }
      for (const { err } of await Promise.all(other)) expect(err?.message).toMatch(/ENOTFOUND/);
      // the answer is not kept: the next connection resolves again
      const again = ask('localhost');
      expect(spy).toHaveBeenCalledTimes(3);
      for (const answer of held.splice(0)) answer();
      expect((await again).err).toBeNull();
    } finally {
      spy.mockRestore();
    }
  });

  const refused: Array<[string, RegExp]> = [
    ['127.0.0.1', /loopback/],
    ['127.8.9.10', /loopback/],
    ['10.1.2.3', /private/],
    ['172.16.0.1', /private/],
    ['172.31.255.255', /private/],
    ['192.168.1.1', /private/],
    ['169.254.169.254', /link-local/],
    ['100.64.0.1', /carrier-grade/],
    ['100.100.100.200', /carrier-grade/],
    ['0.0.0.0', /this network/],
    ['224.0.0.1', /multicast/],
    ['255.255.255.255', /reserved/],
    ['192.0.2.10', /documentation/],
    ['198.51.100.7', /documentation/],
    ['203.0.113.9', /documentation/],
    ['198.18.0.1', /benchmarking/],
    ['::1', /loopback/],
    ['::', /unspecified/],
    ['::ffff:127.0.0.1', /IPv4-mapped/],
    ['::ffff:8.8.8.8', /IPv4-mapped/],
    ['64:ff9b::7f00:1', /NAT64/],
    ['fc00::1', /unique-local/],
    ['fd00:ec2::254', /unique-local/],
    ['fe80::1', /link-local/],
    ['ff02::1', /multicast/],
    ['2001:db8::1', /documentation/],
  ];
  it.each(refused)('refuses %s', (address, why) => {
    expect(blockedReason(address)).toMatch(why);
    expect(() => new TargetPolicy([]).checkAddress('example.test', address)).toThrow(TargetRefused);
  });

  it('allows public addresses', () => {
    for (const a of ['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111'])
      expect(blockedReason(a)).toBeNull();
  });

  it('opens only what WEBHOOK_ALLOWED_HOSTS lists (CIDRs, single addresses, host names)', () => {
    const p = new TargetPolicy(['127.0.0.1/32', '10.0.0.0/8', 'receiver.internal', '::1']);
    expect(() => p.checkAddress('x', '127.0.0.1')).not.toThrow();
    expect(() => p.checkAddress('x', '127.0.0.2')).toThrow(TargetRefused);
    expect(() => p.checkAddress('x', '10.9.9.9')).not.toThrow();
    expect(() => p.checkAddress('x', '::1')).not.toThrow();
    expect(() => p.checkAddress('receiver.internal', '192.168.0.5')).not.toThrow();
    expect(() => p.checkAddress('x', '192.168.0.5')).toThrow(TargetRefused);
  });

  it('refuses at save time a DNS name that resolves to loopback', async () => {
    await expect(new TargetPolicy([]).checkUrl(new URL('http://localhost:9/x'))).rejects.toThrow(/loopback/);
    await expect(new TargetPolicy([]).checkUrl(new URL('http://[::1]:9/x'))).rejects.toThrow(/loopback/);
    await expect(new TargetPolicy([]).checkUrl(new URL('http://0x7f000001/x'))).rejects.toThrow(/loopback/);
  });

  it('refuses at connect time, against the address dialled (names and IP literals)', async () => {
    const http = new WebhookHttp(new TargetPolicy([]), 2000);
    try {
      for (const url of [
        'http://localhost:9/hook',
        'http://127.0.0.1:9/hook',
        'http://[::1]:9/',
        'http://169.254.169.254/latest',
      ]) {
        const out = await http.post(url, {}, '{}');
        expect(out.statusCode, url).toBeNull();
        expect(out.error, url).toMatch(/^refused: /);
      }
    } finally {
      http.close();
    }
  });

  it('accepts only http(s) URLs without credentials', () => {
    expect(parseWebhookUrl('ftp://example.com/')).toMatch(/http/);
    expect(parseWebhookUrl('javascript:alert(1)')).toMatch(/http/);
    expect(parseWebhookUrl('not a url')).toMatch(/valid/);
    expect(parseWebhookUrl('https://user:pw@example.com/')).toMatch(/password/);
    expect(parseWebhookUrl(`https://example.com/${'a'.repeat(2001)}`)).toMatch(/2,000/);
    expect(parseWebhookUrl('https://example.com/hook')).toBeInstanceOf(URL);
  });

  it('never throws on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const out = parseWebhookUrl(s);
        expect(typeof out === 'string' || out instanceof URL).toBe(true);
      }),
    );
  });
});
