import type { Generated, Selectable } from 'kysely';

/** One row per live key; regenerating replaces the row (new id), clearing deletes it. */
export interface AccessKeyTable {
  id: Generated<number>;
  user_id: number;
  /** HMAC-SHA256 of the key under a key derived from the master key: the lookup index */
  digest: string;
  /** AES-256-GCM of the key, so its owner and admins can see it again (the Vtiger/Dazos "view") */
  ciphertext: string;
  /** first and last characters only, for lists and audit entries */
  hint: string;
  created_at: number;
  last_used_at: number | null;
  last_used_ip: string | null;
}

/** Requests per key per hour, written in batches; feeds API Management's 24-hour count. */
export interface AccessKeyUsageTable {
  key_id: number;
  hour: number;
  requests: number;
}

export type AccessKeyRow = Selectable<AccessKeyTable>;

/** One row (id 1): bumped by every change to who may do what; processes poll it to keep their caches true. */
export interface AuthVersionTable {
  id: number;
  version: number;
}
