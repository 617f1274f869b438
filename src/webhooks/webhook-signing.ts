import { createHmac, randomBytes } from 'node:crypto';

/** A Standard Webhooks secret: `whsec_` + base64 of 24 random bytes (the spec allows 24–64). */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

/** Random bytes for message ids, drawn from the CSPRNG 4 KB at a time (one call per id was 4% of a write). */
let idPool = Buffer.alloc(0);
let idAt = 0;

/** The message id sent as `webhook-id`: the same on every attempt of one delivery. */
export function newMessageId(): string {
  if (idAt + 16 > idPool.length) {
    idPool = randomBytes(4096);
    idAt = 0;
  }
  idAt += 16;
  return `msg_${idPool.toString('base64url', idAt - 16, idAt)}`;
}

const keys = new Map<string, Buffer>();

/** The HMAC key of a `whsec_…` secret (base64 after the prefix), decoded once per secret. */
function keyFor(secret: string): Buffer {
  let key = keys.get(secret);
  if (!key) {
    if (keys.size > 10_000) keys.clear();
    key = Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64');
    keys.set(secret, key);
  }
  return key;
}

/**
 * The Standard Webhooks headers for one attempt. Each secret signs (`v1,<base64>` separated by spaces), so
 * during a rotation receivers holding either the old or the new secret verify the message. The timestamp
 * is the sender's wall clock in seconds: receivers compare it with theirs (±5 minutes).
 */
export function signedHeaders(
  msgId: string,
  body: string,
  secrets: readonly string[],
  at: Date = new Date(),
): Record<string, string> {
  const timestamp = String(Math.floor(at.getTime() / 1000));
  // HMAC-SHA256 over `id.timestamp.body`, as the spec and the standardwebhooks library sign; node:crypto's
  // native HMAC is several times cheaper than that library's pure-JS SHA-256 on every delivery
  const signed = `${msgId}.${timestamp}.${body}`;
  const signature = secrets
    .map((s) => `v1,${createHmac('sha256', keyFor(s)).update(signed).digest('base64')}`)
    .join(' ');
  return {
    'webhook-id': msgId,
    'webhook-timestamp': timestamp,
    'webhook-signature': signature,
  };
}
