import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';

/**
 * Key shape: `rpk_` + 33 base62 characters (192 random bits) + 6 base62 characters of CRC32 over the rest.
 * The prefix lets secret scanners find leaked keys; the checksum lets the server (and scanners) reject a
 * mistyped key without a database lookup.
 */
export const KEY_PREFIX = 'rpk_';
const BODY_LENGTH = 33;
const CHECKSUM_LENGTH = 6;
export const KEY_LENGTH = KEY_PREFIX.length + BODY_LENGTH + CHECKSUM_LENGTH;
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const KEY_PATTERN = new RegExp(`^${KEY_PREFIX}[0-9A-Za-z]{${BODY_LENGTH + CHECKSUM_LENGTH}}$`);

function base62(value: bigint, width: number): string {
  let out = '';
  let v = value;
  while (v > 0n) {
    out = ALPHABET[Number(v % 62n)] + out;
    v /= 62n;
  }
  return out.padStart(width, '0');
}

function checksum(unsigned: string): string {
  return base62(BigInt(crc32(unsigned)), CHECKSUM_LENGTH);
}

export function generateAccessKey(): string {
  const body = base62(BigInt(`0x${randomBytes(24).toString('hex')}`), BODY_LENGTH);
  const unsigned = KEY_PREFIX + body;
  return unsigned + checksum(unsigned);
}

export type KeyCheck = { ok: true } | { ok: false; problem: 'WHITESPACE' | 'MALFORMED' | 'CHECKSUM' };

/** Offline checks, in the order a user can act on them: stray spaces, shape, checksum. */
export function checkAccessKey(candidate: string): KeyCheck {
  if (candidate !== candidate.trim()) return { ok: false, problem: 'WHITESPACE' };
  if (!KEY_PATTERN.test(candidate)) return { ok: false, problem: 'MALFORMED' };
  const unsigned = candidate.slice(0, -CHECKSUM_LENGTH);
  if (checksum(unsigned) !== candidate.slice(-CHECKSUM_LENGTH)) return { ok: false, problem: 'CHECKSUM' };
  return { ok: true };
}

/** What may be shown of a key without revealing it, e.g. in lists and audit entries. */
export function keyHint(key: string): string {
  return `${key.slice(0, KEY_PREFIX.length + 4)}…${key.slice(-4)}`;
}
