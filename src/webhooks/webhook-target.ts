import dns from 'node:dns';
import net from 'node:net';

/**
 * SSRF protection for webhook targets. A target is refused when its host is, or resolves to, an address a
 * server must not be made to call: loopback, private, link-local (cloud metadata), CGNAT, multicast,
 * documentation, benchmarking, reserved, IPv4-mapped/NAT64 and unique-local IPv6. The check runs when a
 * webhook is saved and again inside the connection's DNS lookup, against the addresses actually dialled,
 * so a name that resolves to a public address at save time and to 127.0.0.1 later (DNS rebinding) is
 * still refused. `WEBHOOK_ALLOWED_HOSTS` (host names and CIDRs) opens chosen private targets for
 * development and tests; by default it is empty.
 */
const BLOCKED_V4: Array<[string, number, string]> = [
  ['0.0.0.0', 8, 'a "this network" address'],
  ['10.0.0.0', 8, 'a private address'],
  ['100.64.0.0', 10, 'a carrier-grade NAT address'],
  ['127.0.0.0', 8, 'a loopback address'],
  ['169.254.0.0', 16, 'a link-local (cloud metadata) address'],
  ['172.16.0.0', 12, 'a private address'],
  ['192.0.0.0', 24, 'a reserved address'],
  ['192.0.2.0', 24, 'a documentation address'],
  ['192.88.99.0', 24, 'a reserved address'],
  ['192.168.0.0', 16, 'a private address'],
  ['198.18.0.0', 15, 'a benchmarking address'],
  ['198.51.100.0', 24, 'a documentation address'],
  ['203.0.113.0', 24, 'a documentation address'],
  ['224.0.0.0', 4, 'a multicast address'],
  ['240.0.0.0', 4, 'a reserved address'],
];
const BLOCKED_V6: Array<[string, number, string]> = [
  ['::', 128, 'an unspecified address'],
  ['::1', 128, 'a loopback address'],
  ['::ffff:0:0', 96, 'an IPv4-mapped address'],
  ['64:ff9b::', 96, 'a NAT64 address'],
  ['64:ff9b:1::', 48, 'a NAT64 address'],
  ['100::', 64, 'a discard address'],
  ['2001:db8::', 32, 'a documentation address'],
  ['2002::', 16, 'a 6to4 address'],
  ['fc00::', 7, 'a unique-local address'],
  ['fe80::', 10, 'a link-local address'],
  ['fec0::', 10, 'a site-local address'],
  ['ff00::', 8, 'a multicast address'],
];

export class TargetRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TargetRefused';
  }
}

/** Why `address` may not be called, or null when it is a public address. */
export function blockedReason(address: string): string | null {
  const family = net.isIP(address);
  if (family === 0) return 'not an IP address';
  const list = family === 4 ? BLOCKED_V4 : BLOCKED_V6;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  for (const [net0, prefix, why] of list) {
    const bl = new net.BlockList();
    bl.addSubnet(net0, prefix, type);
    if (bl.check(address, type)) return why;
  }
  return null;
}

/** The allowlist: exact host names, and CIDRs (or single addresses) for resolved addresses. */
export class TargetPolicy {
  private readonly names = new Set<string>();
  private readonly cidrs = new net.BlockList();

  constructor(allowed: readonly string[]) {
    for (const raw of allowed) {
      const entry = raw.trim().toLowerCase();
      if (!entry) continue;
      const [addr, bits] = entry.split('/');
      const family = net.isIP(addr!.replace(/^\[|\]$/g, ''));
      if (family === 0) {
        this.names.add(entry);
        continue;
      }
      const a = addr!.replace(/^\[|\]$/g, '');
      const type = family === 4 ? 'ipv4' : 'ipv6';
      const prefix = bits === undefined ? (family === 4 ? 32 : 128) : Number(bits);
      this.cidrs.addSubnet(a, prefix, type);
    }
  }

  hostAllowed(host: string): boolean {
    return this.names.has(host.toLowerCase());
  }

  /** Throws TargetRefused when a host's resolved address may not be dialled. */
  checkAddress(host: string, address: string): void {
    if (this.hostAllowed(host)) return;
    const family = net.isIP(address);
    if (family !== 0 && this.cidrs.check(address, family === 4 ? 'ipv4' : 'ipv6')) return;
    const why = blockedReason(address);
    if (why)
      throw new TargetRefused(
        `${host} resolves to ${address}, ${why}; webhooks may only call public addresses ` +
          '(WEBHOOK_ALLOWED_HOSTS allows chosen private targets)',
      );
  }

  /** lookups under way, by host and options: the connections asking meanwhile wait for the same answer */
  private readonly resolving = new Map<
    string,
    Array<(err: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => void>
  >();

  /**
   * A `lookup` for http.request: resolves like dns.lookup, then refuses the connection when any address is
   * not allowed. Node calls it for every new connection, so the address checked is the address dialled.
   * Connections to one host that ask while its lookup is under way share that lookup: `dns.lookup` runs
   * `getaddrinfo` on libuv's four threads, which argon2, file reads and zlib need too, and a name server
   * that does not answer holds a thread for seconds. So a webhook whose DNS hangs holds one, not one per
   * request it has in flight. Nothing is kept after the answer (each later connection resolves afresh).
   */
  lookup = (
    hostname: string,
    options: dns.LookupOptions,
    callback: (
      err: NodeJS.ErrnoException | null,
      address: string | dns.LookupAddress[],
      family?: number,
    ) => void,
  ): void => {
    const answer = (err: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      try {
        if (addresses.length === 0) throw new TargetRefused(`${hostname} has no address`);
        for (const a of addresses) this.checkAddress(hostname, a.address);
      } catch (refused) {
        return callback(refused as NodeJS.ErrnoException, '', 0);
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0]!;
      callback(null, first.address, first.family);
    };
    const key = `${hostname}\n${options.family ?? 0}\n${options.hints ?? 0}\n${options.order ?? options.verbatim ?? ''}`;
    const waiting = this.resolving.get(key);
    if (waiting) {
      waiting.push(answer);
      return;
    }
    const asked = [answer];
    this.resolving.set(key, asked);
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      this.resolving.delete(key);
      for (const a of asked) a(err, addresses);
    });
  };

  /** The check at save time: the URL's host, resolved now (the connection checks again). */
  async checkUrl(url: URL): Promise<void> {
    const host = bareHost(url);
    if (this.hostAllowed(host)) return;
    if (net.isIP(host) !== 0) return this.checkAddress(host, host);
    let addresses: dns.LookupAddress[];
    try {
      addresses = await dns.promises.lookup(host, { all: true });
    } catch {
      throw new TargetRefused(`${host} cannot be resolved`);
    }
    for (const a of addresses) this.checkAddress(host, a.address);
  }
}

/** The URL's host without IPv6 brackets. */
export function bareHost(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
}

/** The shape rules for a webhook URL (no network): http(s), a host, no credentials, ≤ 2,000 characters. */
export function parseWebhookUrl(raw: string): URL | string {
  if (raw.length > 2000) return 'is longer than 2,000 characters';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'is not a valid URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must start with http:// or https://';
  if (!url.hostname) return 'has no host';
  if (url.username || url.password) return 'must not contain a user name or password';
  return url;
}
