import type { Kysely } from 'kysely';
import { columnTypes, withId } from '../columns.js';
import type { DialectName } from '../database.js';

export const CRM_MODULES_AT_0001 = [
  'Contacts',
  'Leads',
  'Accounts',
  'Potentials',
  'Products',
  'Quotes',
  'HelpDesk',
];

// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed against no schema
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  const t = columnTypes(dialect);

  await withId(dialect, db.schema.createTable('roles'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('parent_id', 'integer', (c) => c.references('roles.id'))
    .addColumn('path', 'text', (c) => c.notNull())
    .addColumn('depth', 'integer', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('roles_path_idx').on('roles').column('path').execute();

  await withId(dialect, db.schema.createTable('profiles'))
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('role_profiles')
    .addColumn('role_id', 'integer', (c) => c.notNull().references('roles.id').onDelete('cascade'))
    .addColumn('profile_id', 'integer', (c) => c.notNull().references('profiles.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('role_profiles_pk', ['role_id', 'profile_id'])
    .execute();

  await db.schema
    .createTable('profile_permissions')
    .addColumn('profile_id', 'integer', (c) => c.notNull().references('profiles.id').onDelete('cascade'))
    .addColumn('module', 'text', (c) => c.notNull())
    .addColumn('can_view', t.bool, (c) => c.notNull())
    .addColumn('can_create', t.bool, (c) => c.notNull())
    .addColumn('can_edit', t.bool, (c) => c.notNull())
    .addColumn('can_delete', t.bool, (c) => c.notNull())
    .addPrimaryKeyConstraint('profile_permissions_pk', ['profile_id', 'module'])
    .execute();

  await db.schema
    .createTable('sharing_defaults')
    .addColumn('module', 'text', (c) => c.primaryKey())
    .addColumn('access', 'text', (c) => c.notNull())
    .execute();

  await withId(dialect, db.schema.createTable('users'))
    .addColumn('username', 'text', (c) => c.notNull())
    .addColumn('username_key', 'text', (c) => c.notNull().unique())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('first_name', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('last_name', 'text', (c) => c.notNull())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('is_admin', t.bool, (c) => c.notNull())
    .addColumn('is_owner', t.bool, (c) => c.notNull())
    .addColumn('role_id', 'integer', (c) => c.notNull().references('roles.id'))
    .addColumn('time_zone', 'text', (c) => c.notNull())
    .addColumn('date_format', 'text', (c) => c.notNull())
    .addColumn('language', 'text', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .addColumn('deleted_at', t.timestamp)
    .execute();
  await db.schema.createIndex('users_role_idx').on('users').column('role_id').execute();

  await withId(dialect, db.schema.createTable('sessions'))
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('csrf_token', 'text', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('last_seen_at', t.timestamp, (c) => c.notNull())
    .addColumn('expires_at', t.timestamp, (c) => c.notNull())
    .addColumn('ip', 'text', (c) => c.notNull())
    .addColumn('user_agent', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sessions_user_idx').on('sessions').column('user_id').execute();

  await withId(dialect, db.schema.createTable('audit_log'))
    .addColumn('at', t.timestamp, (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('actor_user_id', 'integer')
    .addColumn('actor_username', 'text')
    .addColumn('target_type', 'text')
    .addColumn('target_id', 'text')
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('request_id', 'text')
    .addColumn('details', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('audit_log_at_idx').on('audit_log').column('at').execute();
  await db.schema.createIndex('audit_log_action_idx').on('audit_log').columns(['action', 'at']).execute();
  await db.schema
    .createIndex('audit_log_actor_idx')
    .on('audit_log')
    .columns(['actor_user_id', 'at'])
    .execute();
  await db.schema
    .createIndex('audit_log_target_idx')
    .on('audit_log')
    .columns(['target_type', 'target_id', 'at'])
    .execute();

  await withId(dialect, db.schema.createTable('auth_failures'))
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('auth_failures_key_idx')
    .on('auth_failures')
    .columns(['scope', 'key', 'at'])
    .execute();

  await seedRolesAndProfiles(db);
}

// biome-ignore lint/suspicious/noExplicitAny: see above
async function seedRolesAndProfiles(db: Kysely<any>): Promise<void> {
  const now = Date.now();
  const role = async (name: string, parent: { id: number; path: string; depth: number } | null) => {
    const row = await db
      .insertInto('roles')
      .values({
        name,
        parent_id: parent?.id ?? null,
        path: '',
        depth: parent ? parent.depth + 1 : 0,
        created_at: now,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const path = `${parent?.path ?? '/'}${row.id}/`;
    await db.updateTable('roles').set({ path }).where('id', '=', row.id).execute();
    return { id: row.id as number, path, depth: parent ? parent.depth + 1 : 0 };
  };
  const org = await role('Organization', null);
  const ceo = await role('CEO', org);
  const vp = await role('Vice President', ceo);
  const salesManager = await role('Sales Manager', vp);
  const salesPerson = await role('Sales Person', salesManager);
  const supportManager = await role('Support Manager', vp);
  const supportAgent = await role('Support Agent', supportManager);

  const profile = async (
    name: string,
    description: string,
    grant: (m: string) => [boolean, boolean, boolean, boolean],
  ) => {
    const row = await db
      .insertInto('profiles')
      .values({ name, description, created_at: now })
      .returning('id')
      .executeTakeFirstOrThrow();
    for (const module of CRM_MODULES_AT_0001) {
      const [v, c, e, d] = grant(module);
      await db
        .insertInto('profile_permissions')
        .values({ profile_id: row.id, module, can_view: +v, can_create: +c, can_edit: +e, can_delete: +d })
        .execute();
    }
    return row.id as number;
  };
  const all = await profile('Administrator', 'Full access to every module', () => [true, true, true, true]);
  const sales = await profile('Sales Profile', 'Sales modules; read-only tickets', (m) =>
    m === 'HelpDesk' ? [true, false, false, false] : [true, true, true, true],
  );
  const support = await profile('Support Profile', 'Tickets and contacts; read-only sales', (m) =>
    ['HelpDesk', 'Contacts', 'Accounts'].includes(m) ? [true, true, true, true] : [true, false, false, false],
  );
  const assign: Array<[number, number]> = [
    [org.id, all],
    [ceo.id, all],
    [vp.id, all],
    [salesManager.id, sales],
    [salesPerson.id, sales],
    [supportManager.id, support],
    [supportAgent.id, support],
  ];
  for (const [role_id, profile_id] of assign)
    await db.insertInto('role_profiles').values({ role_id, profile_id }).execute();

  for (const module of CRM_MODULES_AT_0001) {
    await db
      .insertInto('sharing_defaults')
      .values({ module, access: module === 'Products' ? 'public_read_write' : 'private' })
      .execute();
  }
}
