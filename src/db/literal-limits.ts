import {
  type KyselyPlugin,
  LimitNode,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  type RawBuilder,
  type RootOperationNode,
  SelectQueryNode,
  sql,
  type UnknownRow,
  ValueNode,
} from 'kysely';

/**
 * A select's LIMIT as a literal in the SQL, on both databases: a bound LIMIT makes each database plan the
 * statement again on every run.
 *
 * - SQLite (3.53, as better-sqlite3 bundles it): a cached statement whose LIMIT is a bound parameter costs as
 *   much on every run as preparing it again, consistent with the planner reading the bound value and marking
 *   the statement for a re-prepare whenever it is bound, which better-sqlite3 does on every run. A page of ten
 *   contacts took 89 µs with `LIMIT ?` against 44 µs with `LIMIT 10`; a one-row lookup 14 against 6.5 µs
 *   (stop 41, `docs/performance.md`).
 * - PostgreSQL: a named statement is planned for its values (a custom plan) on its first five runs, then
 *   planned once (generic) if that plan costs no more than theirs. Without the value of its LIMIT the
 *   generic plan is costed as reading a tenth of the matching rows, never cheaper than a custom plan for ten,
 *   so such a statement is planned anew on every run for good (`pg_prepared_statements` counts 0 generic
 *   plans; stop 63).
 *
 * This plugin writes a select's own LIMIT into the SQL as a literal when it is a whole number, so each
 * database keeps one prepared statement per limit in use (a handful: page sizes, 1). OFFSET stays a
 * parameter: a literal would make a statement of every page (on PostgreSQL a bound OFFSET keeps custom
 * plans too; a page past the first pays for its plan). Only the outermost select is looked at; it costs one
 * property check per query, not a walk of the tree.
 */
export class LiteralLimits implements KyselyPlugin {
  transformQuery({ node }: PluginTransformQueryArgs): RootOperationNode {
    if (!SelectQueryNode.is(node) || !node.limit) return node;
    const value = node.limit.limit;
    if (!ValueNode.is(value) || value.immediate) return node;
    const n = value.value;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) return node;
    return Object.freeze({ ...node, limit: LimitNode.create(ValueNode.createImmediate(n)) });
  }

  async transformResult({ result }: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return result;
  }
}

/** The same for a LIMIT written in a `sql` template: a whole number as a literal (anything else throws). */
export function literalLimit(n: number): RawBuilder<number> {
  return sql.lit(wholeLimit(n));
}

function wholeLimit(n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`a LIMIT must be a whole number, not ${n}`);
  return n;
}

/**
 * A LIMIT that changes from call to call with the program's own state (a batch sized by free slots): bound,
 * so it stays one statement instead of one per value, which on PostgreSQL would take a named statement for
 * each (a generation holds 200). `LiteralLimits` leaves it alone; it is prepared (SQLite) or planned
 * (PostgreSQL) at every run, which a statement run a few times a second can afford.
 */
export function boundLimit(n: number): RawBuilder<number> {
  return sql<number>`${wholeLimit(n)}`;
}
