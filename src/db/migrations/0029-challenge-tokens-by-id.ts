import type { Kysely } from 'kysely';

/**
 * A user's getchallenge tokens in id order: `(user_id, id)` and, per client, `(user_id, ip, id)`, in place
 * of `(user_id, expires_at)` and `(ip, created_at)`, which nothing reads since the per-address count moved
 * to `rate_counts` (0024). Every getchallenge trims the user's and the client's tokens beyond their newest
 * few and the expired ones, and every login reads the newest live ones: all of that is "the newest first"
 * or "the oldest first" of one user's tokens. Without an index in that order PostgreSQL read all of the
 * user's entries, dead ones included (a token is written and deleted a moment later, thousands a minute
 * under load), through bitmap scans that visit every entry's heap page: the trim alone took ~0.4 ms of
 * PostgreSQL's time per getchallenge and ~1,000 buffer reads (docs/performance.md). In id order the scans
 * stop where the newest end, and plain index scans mark the dead entries they pass, which later scans skip.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed against no schema
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex('ws_challenge_tokens_user_id_idx')
    .on('ws_challenge_tokens')
    .columns(['user_id', 'id'])
    .execute();
  await db.schema
    .createIndex('ws_challenge_tokens_client_id_idx')
    .on('ws_challenge_tokens')
    .columns(['user_id', 'ip', 'id'])
    .execute();
  await db.schema.dropIndex('ws_challenge_tokens_user_idx').execute();
  await db.schema.dropIndex('ws_challenge_tokens_ip_idx').execute();
}
