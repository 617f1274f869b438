import { sql } from 'kysely';

/**
 * PostgreSQL: an expression that turns `synchronous_commit` off for the current transaction only
 * (`set_config(…, true)`; the connection's setting stays on), so its commit does not wait for the WAL
 * flush. Put it in a statement that is its own implicit transaction and updates a hot row — a counter every
 * request of a kind updates — whose lock would otherwise last through one flush per call. Only for writes
 * whose loss in a crash is harmless (an increment handed out again, a rate count a little low).
 */
export const unflushedCommit = sql<boolean>`set_config('synchronous_commit', 'off', true) is not null`;
