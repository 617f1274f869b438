import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/** A Standard Webhooks secret: `whsec_` + base64 of 24 random bytes (the spec allows 24–64). */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

/** The message id sent as `webhook-id`: the same on every attempt of one delivery. */
export function newMessageId(): string {
  return `msg_${randomBytes(16).toString('base64url')}`;
}

const signers = new Map<string, Webhook>();

function signerFor(secret: string): Webhook {
  let w = signers.get(secret);
  if (!w) {
    if (signers.size > 10_000) signers.clear();
    w = new Webhook(secret);
    signers.set(secret, w);
  }
  return w;
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
  const signature = secrets.map((s) => signerFor(s).sign(msgId, at, body)).join(' ');
  return {
    'webhook-id': msgId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signature,
  };
}
