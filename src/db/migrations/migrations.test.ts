import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, Harness } from '../../../test/harness.js';
import { parseConfig } from '../../config.js';
import { loadModuleMeta } from '../../records/module-meta.js';
import { STANDARD_MODULES } from '../../records/modules/index.js';
import type { Db } from '../database.js';

/** The columns of a table in the connection's own schema (PostgreSQL) or database (SQLite). */
async function columnsOf(db: Db, table: string): Promise<string[]> {
  if (db.dialect === 'sqlite') {
    const res = await sql<{ name: string }>`select name from pragma_table_info(${table})`.execute(db.kysely);
    return res.rows.map((r) => r.name);
  }
  const res = await sql<{ column_name: string }>`select column_name from information_schema.columns
    where table_schema = current_schema() and table_name = ${table}`.execute(db.kysely);
  return res.rows.map((r) => r.column_name);
}

for (const dialect of DIALECTS) {
  describe(`migrations [${dialect}]`, () => {
    const h = new Harness(dialect);
    beforeAll(() => h.start(), 60_000);
    afterAll(() => h.stop());

    it('create a column for every field that a standard module stores in its table', async () => {
      for (const def of STANDARD_MODULES) {
        const columns = await columnsOf(h.ctx.db, def.table);
        const missing = def.fields
          .filter((f) => f.storage === 'module' && !columns.includes(f.name))
          .map((f) => f.name);
        expect(missing, `${def.table} lacks columns: add a migration for them`).toEqual([]);
      }
    });
  });

  describe(`a standard field added the way a developer adds one [${dialect}]`, () => {
    // the developer edits contacts.module.ts and writes a migration that adds the column
    const contacts = STANDARD_MODULES.find((m) => m.name === 'Contacts')!;
    const nickname = {
      name: 'nickname',
      label: 'Nickname',
      type: 'string' as const,
      mandatory: false,
      editable: true,
      storage: 'module' as const,
    };
    const h = new Harness(dialect);
    beforeAll(async () => {
      (contacts.fields as (typeof nickname)[]).push(nickname);
      const { MIGRATIONS } = await import('../migrate.js');
      await h.start(
        {},
        {
          migrations: {
            ...MIGRATIONS,
            '9999-contacts-nickname': {
              up: async (db) => {
                await db.schema.alterTable('crm_contacts').addColumn('nickname', 'text').execute();
              },
            },
          },
        },
      );
    }, 60_000);
    afterAll(async () => {
      (contacts.fields as unknown[]).splice(contacts.fields.indexOf(nickname), 1);
      await h.stop();
    });

    it('installs fresh, and the field is stored and read like any other', async () => {
      expect(await columnsOf(h.ctx.db, 'crm_contacts')).toContain('nickname');
      expect((await loadModuleMeta(h.ctx.db.kysely, 'Contacts')).fieldMap.has('nickname')).toBe(true);
      const created = await h.request({
        method: 'POST',
        url: '/api/v1/records/Contacts',
        as: h.admin,
        payload: { lastname: 'Hopper', nickname: 'Amazing Grace' },
      });
      expect(created.statusCode, created.body).toBe(201);
      const read = await h.request({
        method: 'GET',
        url: `/api/v1/records/Contacts/${created.json().id}`,
        as: h.admin,
      });
      expect(read.json().nickname).toBe('Amazing Grace');
    });
  });

  describe(`upgrading to per-module record number sequences (0026) [${dialect}]`, () => {
    const h = new Harness(dialect);
    beforeAll(async () => {
      const { MIGRATIONS } = await import('../migrate.js');
      const before = Object.fromEntries(Object.entries(MIGRATIONS).filter(([name]) => name < '0026'));
      await h.start({}, { migrations: before });
    }, 60_000);
    afterAll(() => h.stop());

    it('numbers the records created after the upgrade on from those created before', async () => {
      const create = async (lastname: string) => {
        const res = await h.request({
          method: 'POST',
          url: '/api/v1/records/Contacts',
          as: h.admin,
          payload: { lastname },
        });
        expect(res.statusCode, res.body).toBe(201);
        return res.json().contact_no as string;
      };
      if (dialect === 'postgres') {
        // before 0026 PostgreSQL took numbers from record_sequences too: emulate it for these creates
        await sql`create sequence record_number_contacts`.execute(h.ctx.db.kysely);
      }
      const before = [await create('Before 1'), await create('Before 2')];
      if (dialect === 'postgres') {
        // the emulation's numbers, written back where the build before 0026 kept them
        await sql`drop sequence record_number_contacts`.execute(h.ctx.db.kysely);
        await sql`update record_sequences set next_value = 3 where module = 'Contacts'`.execute(
          h.ctx.db.kysely,
        );
      }
      expect(before).toEqual(['CON1', 'CON2']);
      const { MIGRATIONS, migrateToLatest } = await import('../migrate.js');
      expect(await migrateToLatest(h.ctx.db, MIGRATIONS)).toEqual(
        Object.keys(MIGRATIONS).filter((name) => name >= '0026'),
      );
      expect(await create('After')).toBe('CON3');
    });
  });

  describe(`upgrading to stored webhook bodies (0028) [${dialect}]`, () => {
    const h = new Harness(dialect);
    beforeAll(async () => {
      const { MIGRATIONS } = await import('../migrate.js');
      const before = Object.fromEntries(Object.entries(MIGRATIONS).filter(([name]) => name < '0028'));
      await h.start(
        // loopback allowed, and no sender: the deliveries written below stay as they are
        { webhooks: { ...parseConfig({}).webhooks, allowedHosts: ['127.0.0.1/32'], sender: false } },
        { migrations: before },
      );
    }, 60_000);
    afterAll(() => h.stop());

    it('keeps the body of every delivery written before, and retention still deletes what is old', async () => {
      const hook = await h.request({
        method: 'POST',
        url: '/api/v1/webhooks',
        as: h.admin,
        payload: { url: 'http://127.0.0.1:9/hook' },
      });
      expect(hook.statusCode, hook.body).toBe(201);
      const webhookId = hook.json().id as number;
      const now = h.clock.now();
      // deliveries as the build before 0028 wrote them: each with its own copy of the body
      const old = async (status: string, body: string, finishedAt: number | null) => {
        await sql`insert into webhook_deliveries (webhook_id, msg_id, event_type, record_id, payload, status,
            attempts, next_attempt_at, created_at, finished_at)
          values (${webhookId}, ${`msg_${status}`}, 'contacts.updated', null, ${body}, ${status}, 1, ${now},
            ${now}, ${finishedAt})`.execute(h.ctx.db.kysely);
      };
      await old('delivered', '{"n":"delivered"}', now);
      await old('pending', '{"n":"pending"}', null);
      const ids = (
        await h.ctx.db.kysely.selectFrom('webhook_deliveries').select('id').orderBy('id').execute()
      ).map((r) => r.id);

      const { MIGRATIONS, migrateToLatest } = await import('../migrate.js');
      expect(await migrateToLatest(h.ctx.db, MIGRATIONS)).toEqual(
        Object.keys(MIGRATIONS).filter((name) => name >= '0028'),
      );
      const { findDelivery, insertDeliveries } = await import('../../webhooks/webhook.repository.js');
      const { deleteFinishedDeliveries } = await import('../../webhooks/webhook-outbox.repository.js');
      expect((await findDelivery(h.ctx.db.kysely, webhookId, ids[0]!))?.payload).toBe('{"n":"delivered"}');
      expect((await findDelivery(h.ctx.db.kysely, webhookId, ids[1]!))?.payload).toBe('{"n":"pending"}');
      // a body written after the upgrade gets an id of its own (PostgreSQL's identity goes on past the old ids)
      const [fresh] = await insertDeliveries(h.ctx.db.kysely, [
        {
          webhook_id: webhookId,
          msg_id: 'msg_new',
          event_type: 'webhook.test',
          record_id: null,
          payload: '{"n":"new"}',
          status: 'pending',
          next_attempt_at: now,
          created_at: now,
        },
      ]);
      expect((await findDelivery(h.ctx.db.kysely, webhookId, fresh!))?.payload).toBe('{"n":"new"}');
      expect(await deleteFinishedDeliveries(h.ctx.db.kysely, now + 1, 100)).toBe(1);
      const bodies = await h.ctx.db.kysely
        .selectFrom('webhook_payloads')
        .select('body')
        .orderBy('id')
        .execute();
      expect(bodies.map((b) => b.body)).toEqual(['{"n":"pending"}', '{"n":"new"}']);
    });
  });
}
