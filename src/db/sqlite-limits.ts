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
 * With the SQLite that better-sqlite3 bundles (3.53 here), a cached statement whose LIMIT is a bound
 * parameter costs as much on every run as preparing it again — consistent with the planner reading the bound
 * LIMIT value and marking the statement for a re-prepare whenever it is bound, which better-sqlite3 does on
 * every run. A page of ten contacts took 89 µs with `LIMIT ?` against 44 µs with `LIMIT 10`; a one-row
 * lookup 14 against 6.5 µs (stop 41, `docs/performance.md`). OFFSET and WHERE parameters do not do this.
 *
 * This plugin writes a select's own LIMIT into the SQL as a literal when it is a whole number, so the
 * statement cache keeps one prepared statement per limit in use (a handful: page sizes, 1). OFFSET stays a
 * parameter: it does not trigger the re-prepare, and a literal would make a statement of every page.
 * Only the outermost select is looked at; it costs one property check per query, not a walk of the tree.
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
export function literalLimit(n: number): RawBuilder<unknown> {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`a LIMIT must be a whole number, not ${n}`);
  return sql.lit(n);
}
