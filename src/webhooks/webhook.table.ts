import type { Generated, Selectable } from 'kysely';

/** One user's subscription: where to send which record changes, signed with its secret. */
export interface WebhookTable {
  id: Generated<number>;
  user_id: number;
  url: string;
  /** a module name, or `*` for every module the owner may view */
  module: string;
  /** comma-separated: `created,updated,deleted` (at least one) */
  operations: string;
  description: string | null;
  enabled: number | boolean;
  /** why the webhook was switched off by Rapport (410 Gone, failing for 5 days); null when on or off by hand */
  disabled_reason: string | null;
  /** `whsec_…`, sealed with the secret box; never logged, audited or listed */
  secret_sealed: string;
  /** the secret before the last rotation, still signing until `previous_secret_expires_at` */
  previous_secret_sealed: string | null;
  previous_secret_expires_at: number | null;
  /** the first failure of the current unbroken run of failures; null after a success */
  failing_since: number | null;
  created_at: number;
  updated_at: number;
}

/**
 * What a record write needs of a webhook that may send: whose it is and what it listens to (cached for
 * every write, so its operations are split once).
 */
export type WebhookSubscription = Pick<WebhookRow, 'id' | 'user_id' | 'module'> & {
  operations: readonly string[];
};

/**
 * The event outbox: one record change as one owner sees it, written in the change's transaction, for the
 * owner's webhooks subscribed at commit. The sender turns it into one delivery per webhook and deletes it.
 */
export interface WebhookEventTable {
  id: Generated<number>;
  /** the owner of the webhooks; the payload is presented for them */
  user_id: number;
  /** comma-separated ids of the owner's webhooks subscribed to this event when it committed */
  webhook_ids: string;
  event_type: string;
  record_id: number | null;
  payload: string;
  created_at: number;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'cancelled';

/** The delivery outbox: one message for one webhook, written in the transaction of the change. */
export interface WebhookDeliveryTable {
  id: Generated<number>;
  webhook_id: number;
  /** the `webhook-id` header: the same on every attempt, so receivers can deduplicate */
  msg_id: string;
  /** `contacts.updated`, `webhook.test` */
  event_type: string;
  /** the record the event is about (per-record ordering); null for test events */
  record_id: number | null;
  /** its body (`webhook_payloads`), shared by the deliveries of one event to one owner's webhooks */
  payload_id: number;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: number;
  /** a sender owns the row until then; after a crash another sender may take it */
  claimed_until: number | null;
  created_at: number;
  finished_at: number | null;
  last_status_code: number | null;
  last_error: string | null;
}

/**
 * A message's JSON body, presented for the webhook owner's view when the change committed: written once
 * when an event becomes deliveries, however many of the owner's webhooks it goes to, and deleted with the
 * last delivery that uses it.
 */
export interface WebhookPayloadTable {
  id: Generated<number>;
  body: string;
  created_at: number;
}

/** One HTTP attempt of a delivery: what the receiver answered (first 4 KB), how long it took. */
export interface WebhookAttemptTable {
  id: Generated<number>;
  delivery_id: number;
  webhook_id: number;
  at: number;
  status_code: number | null;
  latency_ms: number;
  error: string | null;
  response_body: string | null;
  /** when the next attempt is due, if one is scheduled */
  next_attempt_at: number | null;
}

export type WebhookRow = Selectable<WebhookTable>;
export type WebhookEventRow = Selectable<WebhookEventTable>;
export type WebhookDeliveryRow = Selectable<WebhookDeliveryTable>;
export type WebhookAttemptRow = Selectable<WebhookAttemptTable>;
