import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { describeEachDialect } from '../../test/harness.js';
import { classifyDatabaseError, markConnectFailure } from './db-errors.js';

async function failureOf(run: () => Promise<unknown>) {
  try {
    await run();
  } catch (err) {
    return classifyDatabaseError(err);
  }
  return 'no error';
}

describeEachDialect('driver errors from the real database are classified', (h) => {
  const db = () => h.ctx.db.kysely;

  it('a unique violation is a conflict naming the API field', async () => {
    const row = await db()
      .selectFrom('users')
      .selectAll()
      .where('username', '=', 'admin')
      .executeTakeFirstOrThrow();
    const { id: _id, ...copy } = row;
    const failure = await failureOf(() => db().insertInto('users').values(copy).execute());
    expect(failure).toMatchObject({ kind: 'conflict', column: 'username' });
  });

  it('values PostgreSQL cannot hold are bad input; SQLite takes them as given', async () => {
    for (const run of [
      () => sql`select ${'a\u0000b'} as x`.execute(db()),
      () => sql`select cast(${'3000000000'} as integer) as x`.execute(db()),
      () => sql`select 'abc' like ${'ab\\'} as x`.execute(db()),
    ]) {
      const failure = await failureOf(run);
      expect(failure).toEqual(
        h.dialect === 'postgres' ? expect.objectContaining({ kind: 'bad-input' }) : 'no error',
      );
    }
  });

  it('a programming error is not classified (it stays a logged 500)', async () => {
    expect(await failureOf(() => sql`select * from no_such_table`.execute(db()))).toBeNull();
  });
});

describe('driver errors without a database', () => {
  it.each([
    [{ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:5432' }, 'unavailable'],
    [{ code: '57P01', message: 'terminating connection due to administrator command' }, 'unavailable'],
    [{ code: '08006', message: 'connection failure' }, 'unavailable'],
    [{ message: 'Connection terminated unexpectedly' }, 'unavailable'],
    [{ message: 'timeout exceeded when trying to connect' }, 'unavailable'],
    [{ code: '0A000', message: 'cached plan must not change result type' }, 'unavailable'],
    [{ code: 'SQLITE_BUSY', message: 'database is locked' }, 'unavailable'],
    [{ code: 'SQLITE_READONLY', message: 'attempt to write a readonly database' }, 'unavailable'],
    [{ code: 'SQLITE_CANTOPEN', message: 'unable to open database file' }, 'unavailable'],
    [{ code: '22021', message: 'invalid byte sequence for encoding "UTF8": 0x00' }, 'bad-input'],
    [{ code: '22P02', message: 'invalid input syntax for type integer' }, 'bad-input'],
    [{ code: '22003', message: 'value out of range for type integer' }, 'bad-input'],
    [{ code: '23505', detail: 'Key (name)=(x) already exists.' }, 'conflict'],
    [{ code: 'SQLITE_CONSTRAINT_UNIQUE', message: 'UNIQUE constraint failed: profiles.name' }, 'conflict'],
    [{ code: '42P01', message: 'relation "x" does not exist' }, null],
    [new TypeError('x is not a function'), null],
  ])('%o → %s', (err, kind) => {
    expect(classifyDatabaseError(err)?.kind ?? null).toBe(kind);
  });

  it('any error while connecting means unavailable, whatever its SQLSTATE (REVOKE CONNECT gives 42501)', () => {
    const err = Object.assign(new Error('permission denied for database "x"'), { code: '42501' });
    expect(classifyDatabaseError(err)).toBeNull();
    expect(classifyDatabaseError(markConnectFailure(err))?.kind).toBe('unavailable');
  });
});
