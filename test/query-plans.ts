import { CompiledQuery, type Kysely, type QueryResult } from 'kysely';
import { vi } from 'vitest';

/**
 * SQLite's plans (EXPLAIN QUERY PLAN, one string per statement, steps joined by ` | `) of the statements that
 * `run` sends to `db` reading `table`, in the order they ran: what makes a page cost the same among 100 rows
 * and millions.
 */
export async function sqlitePlansOf(
  // biome-ignore lint/suspicious/noExplicitAny: any schema
  db: Kysely<any>,
  table: string,
  run: () => Promise<unknown>,
): Promise<string[]> {
  const executor = db.getExecutor();
  const original = executor.executeQuery.bind(executor);
  const reads = new RegExp(`from "${table}"`, 'i');
  const seen: CompiledQuery[] = [];
  const spy = vi.spyOn(executor, 'executeQuery').mockImplementation((q: CompiledQuery) => {
    if (reads.test(q.sql)) seen.push(q);
    return original(q);
  });
  try {
    await run();
  } finally {
    spy.mockRestore();
  }
  const plans: string[] = [];
  for (const q of seen) {
    const r: QueryResult<{ detail: string }> = await db.executeQuery(
      CompiledQuery.raw(`explain query plan ${q.sql}`, [...q.parameters]),
    );
    plans.push(r.rows.map((row) => row.detail).join(' | '));
  }
  return plans;
}
