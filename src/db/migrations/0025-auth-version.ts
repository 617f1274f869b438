import type { Kysely } from 'kysely';

/**
 * One counter every change to who may do what bumps in its own transaction (keys, users, roles, sharing,
 * masking rules, webhooks, custom fields, web-service logouts). Each process reads it a few times a
 * second and drops its cached permissions when it moved, instead of re-reading every cached entry when a
 * short TTL ran out: with 200 web-service sessions the re-reads were about a third of a retrieve's cost.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed against no schema
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('auth_version')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('version', 'bigint', (c) => c.notNull())
    .execute();
  await db.insertInto('auth_version').values({ id: 1, version: 0 }).execute();
}
