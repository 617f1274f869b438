import {
  CamelCasePlugin,
  CompiledQuery,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  sql,
  type Transaction,
  type UnknownRow,
} from 'kysely';
import { expect, it } from 'vitest';
import { describeEachDialect } from '../../test/harness.js';
import { CLI_ACTOR } from '../audit/audit.repository.js';
import { transaction } from './direct-transaction.js';
import type { Database } from './schema.js';
import { withUnitOfWork } from './unit-of-work.js';

describeEachDialect('direct transactions', (h) => {
  const db = () => h.ctx.db.kysely;
  const setting = async (key: string) =>
    (await db().selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst())?.value;
  const put = (trx: Transaction<Database>, key: string, value: string) =>
    trx.insertInto('settings').values({ key, value, updated_at: 0 }).execute();

  it('commits what the work wrote and answers its result', async () => {
    const out = await transaction(db(), async (trx) => {
      await put(trx, 'direct.a', 'one');
      // the transaction's own reads see its writes: builders, sql templates and compiled queries alike
      const viaBuilder = await trx
        .selectFrom('settings')
        .select('value')
        .where('key', '=', 'direct.a')
        .execute();
      const viaSql = await sql<{
        value: string;
      }>`select value from settings where key = ${'direct.a'}`.execute(trx);
      const viaCompiled = await trx.executeQuery<{ value: string }>(
        CompiledQuery.raw(
          h.ctx.db.dialect === 'postgres'
            ? 'select value from settings where key = $1'
            : 'select value from settings where key = ?',
          ['direct.a'],
        ),
      );
      return [viaBuilder[0]?.value, viaSql.rows[0]?.value, viaCompiled.rows[0]?.value];
    });
    expect(out).toEqual(['one', 'one', 'one']);
    expect(await setting('direct.a')).toBe('one');
  });

  it('rolls back everything when the work throws, and the error is the work’s', async () => {
    const boom = new Error('boom');
    await expect(
      transaction(db(), async (trx) => {
        await put(trx, 'direct.b', 'kept?');
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(await setting('direct.b')).toBeUndefined();
    // a failed statement rolls back the statements before it too, and its error reaches the caller
    await expect(
      transaction(db(), async (trx) => {
        await put(trx, 'direct.c', 'first');
        await put(trx, 'direct.c', 'duplicate key');
      }),
    ).rejects.toThrow();
    expect(await setting('direct.c')).toBeUndefined();
    // the connection is usable afterwards (back in the pool, or SQLite's lock released)
    await transaction(db(), (trx) => put(trx, 'direct.c', 'after'));
    expect(await setting('direct.c')).toBe('after');
  });

  it('refuses statements once the transaction has ended', async () => {
    let kept: Transaction<Database> | undefined;
    await transaction(db(), async (trx) => {
      kept = trx;
    });
    await expect(put(kept!, 'direct.d', 'late')).rejects.toThrow(/already committed or rolled back/);
    expect(await setting('direct.d')).toBeUndefined();
  });

  it('runs result plugins that change results, and skips none of them', async () => {
    const seen: string[] = [];
    // a plugin that rewrites nothing but records each result it is given
    const probe: KyselyPlugin = {
      transformQuery: ({ node }: PluginTransformQueryArgs) => node,
      async transformResult({ result }: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
        seen.push(`rows:${result.rows.length}`);
        return result;
      },
    };
    const rows = await transaction(db(), async (trx) => {
      await put(trx, 'direct.e', 'camel');
      return trx
        .withPlugin(probe)
        .withPlugin(new CamelCasePlugin())
        .selectFrom('settings')
        .select(['key', 'updatedAt' as 'updated_at'])
        .where('key', '=', 'direct.e')
        .execute();
    });
    expect(rows).toEqual([{ key: 'direct.e', updatedAt: 0 }]);
    expect(seen).toEqual(['rows:1']);
  });

  it('transactions given at once each get a connection of their own, as Kysely’s do', async () => {
    // SQLite has one connection: the driver's lock queues them, in order (two BEGINs on it would fail).
    // PostgreSQL's pool hands out several: they run side by side, each seeing its own row at least
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        transaction(db(), async (trx) => {
          await put(trx, `direct.f${i}`, String(i));
          return (await trx.selectFrom('settings').select('key').where('key', 'like', 'direct.f%').execute())
            .length;
        }),
      ),
    );
    if (h.ctx.db.dialect === 'sqlite') expect(results).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    else expect(results.every((n) => n >= 1 && n <= 12)).toBe(true);
    const all = await db().selectFrom('settings').select('key').where('key', 'like', 'direct.f%').execute();
    expect(all).toHaveLength(12);
  });

  it('is what every unit of work runs in (the group commit on SQLite, a transaction of its own on PostgreSQL)', async () => {
    const executor = await withUnitOfWork(h.ctx, CLI_ACTOR, async (uow) => uow.trx.getExecutor());
    expect(executor.constructor.name).toBe('ConnectionExecutor');
  });
});
