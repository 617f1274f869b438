import type { Generated, Selectable } from 'kysely';

/** An IMAP mailbox the mailroom polls. The password is sealed with the secret box and never leaves the server. */
export interface MailroomMailboxTable {
  id: Generated<number>;
  name: string;
  host: string;
  port: number;
  tls: number | boolean;
  username: string;
  password_sealed: string;
  /** JSON array of folder names */
  folders: string;
  /** `unread` | `all` */
  scan: string;
  /** `all`: only mail received on or after this time (epoch ms); null = everything */
  scan_since: number | null;
  /** `none` | `mark_read` | `move` */
  after_scan: string;
  move_to: string | null;
  poll_seconds: number;
  enabled: number | boolean;
  last_polled_at: number | null;
  last_error: string | null;
  failures: Generated<number>;
  next_poll_at: number | null;
  /** which process polls it now (one at a time across replicas), and until when */
  lease_owner: string | null;
  lease_until: number | null;
  created_at: number;
  updated_at: number;
}

/** IMAP progress per folder: written in the same transaction as the messages it covers. */
export interface MailroomFolderStateTable {
  mailbox_id: number;
  folder: string;
  uid_validity: string;
  last_uid: number;
  updated_at: number;
}

export interface MailroomRuleTable {
  id: Generated<number>;
  name: string;
  position: number;
  enabled: number | boolean;
  /** `all` | `any` */
  match_mode: string;
  /** JSON array of conditions */
  conditions: string;
  /** `create` | `update_ticket` | `link` */
  action: string;
  module: string | null;
  assigned_user_id: number;
  /** JSON `{delimiter, mappings: [{label, field}]}` or null */
  autofill: string | null;
  created_at: number;
  updated_at: number;
}

/** One message per source (`intake` or `mailbox:<id>`), unique on its dedup key; the processing log. */
export interface MailroomMessageTable {
  id: Generated<number>;
  source_key: string;
  mailbox_id: number | null;
  folder: string | null;
  uid: number | null;
  dedup_key: string;
  message_id: string | null;
  from_address: string | null;
  from_name: string | null;
  subject: string | null;
  sent_at: number | null;
  received_at: number;
  size: number;
  raw: Buffer | null;
  /** `received` | `processed` | `no_match` | `skipped` | `failed` */
  status: string;
  reason: string | null;
  rule_id: number | null;
  rule_name: string | null;
  action: string | null;
  module: string | null;
  record_id: number | null;
  /** JSON `{field: value}` */
  autofilled: string | null;
  /** JSON `[{label, field, value, reason}]` */
  dropped: string | null;
  /** JSON: headers, text, attachments list (what the record shows) */
  summary: string | null;
  attempts: Generated<number>;
  lease_owner: string | null;
  lease_until: number | null;
  processed_at: number | null;
}

export type MailroomMailboxRow = Selectable<MailroomMailboxTable>;
export type MailroomRuleRow = Selectable<MailroomRuleTable>;
export type MailroomMessageRow = Selectable<MailroomMessageTable>;
