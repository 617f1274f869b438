import { isIP } from 'node:net';

/**
 * `TRUST_PROXY` (issue 14, finding 6), the forms Fastify's `trustProxy` takes:
 * - `false` (default): Rapport is reached directly; `X-Forwarded-*` is ignored and the socket's address counts.
 * - a hop count (`1`, `2`…): that many proxies sit in front; the client is the address the outermost of them
 *   saw, and anything a client wrote further left in `X-Forwarded-For` is ignored.
 * - addresses and CIDR ranges, comma-separated (`127.0.0.1`, `10.0.0.0/8, fd00::/8`, or the names
 *   `loopback`, `linklocal`, `uniquelocal`): only connections from those are believed.
 * - `true`: believe any sender. Only safe when nothing but the proxy can reach Rapport; then prefer a count.
 */
export type TrustProxy = boolean | number | string[];

const NAMED = new Set(['loopback', 'linklocal', 'uniquelocal']);

export function parseTrustProxy(raw: string): TrustProxy | { error: string } {
  const v = raw.trim();
  if (v === 'true') return true;
  if (v === 'false') return false;
  if (/^\d+$/.test(v)) {
    const hops = Number(v);
    if (hops < 1 || hops > 32) return { error: 'a hop count must be between 1 and 32' };
    return hops;
  }
  const items = v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (items.length === 0)
    return { error: 'must be true, false, a hop count or a list of addresses/CIDR ranges' };
  for (const item of items) {
    if (!validItem(item))
      return {
        error: `"${item}" is not an IP address, a CIDR range (10.0.0.0/8) or loopback/linklocal/uniquelocal`,
      };
  }
  return items;
}

function validItem(item: string): boolean {
  if (NAMED.has(item)) return true;
  const [addr, prefix, ...rest] = item.split('/');
  if (rest.length > 0 || addr === undefined) return false;
  const family = isIP(addr);
  if (family === 0) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

/**
 * The option for Fastify. A hop count becomes a function: Fastify 5 turns a bare number into "trust
 * nothing" (a direct client could otherwise claim any address by sending enough hops), so a count is only
 * for installs where nothing but the proxies can reach Rapport — as the operations guide says.
 */
export function fastifyTrustProxy(
  tp: TrustProxy,
): boolean | string[] | ((addr: string, hop: number) => boolean) {
  if (typeof tp === 'number') return (_addr, hop) => hop < tp;
  return tp;
}
