import type { SecretBox } from '../platform/secrets.js';

/**
 * Mail bodies that carry a live credential (password-reset and verification links) are stored sealed with
 * the secret box in `mail_queue` and `mail_outbox` (issue 14, finding 10): a database dump or backup alone
 * does not hand out working links. The mail queue opens them just before handing them to the mailer; the
 * outbox API opens them for the reader it is allowed to show them to.
 */
const PREFIX = 'sealed:';

export function sealBody(secrets: SecretBox, text: string): string {
  return PREFIX + secrets.encrypt(text);
}

export function openBody(secrets: SecretBox | undefined, stored: string): string {
  if (!stored.startsWith(PREFIX)) return stored;
  if (!secrets) throw new Error('a sealed mail body needs the secret box to be read');
  return secrets.decrypt(stored.slice(PREFIX.length));
}

export function isSealed(stored: string): boolean {
  return stored.startsWith(PREFIX);
}
