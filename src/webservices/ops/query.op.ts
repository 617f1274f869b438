import { sql } from 'kysely';
import { countRecords, selectRecords } from '../../records/record.repository.js';
import { scopeFor } from '../../records/record-access.js';
import { scopeCondition } from '../../records/record-scope.js';
import { compileVtql } from '../vtql/vtql-compiler.js';
import { parseVtql } from '../vtql/vtql-parser.js';
import { wsModule } from '../ws-module-access.js';
import { requireCaller, type WsOperation } from '../ws-operation.js';
import { toWsRecords } from '../ws-record-format.js';
import { queryWsUsers, usersVtqlTarget } from '../ws-users.js';
import { moduleVtqlTarget } from '../ws-vtql-target.js';

/**
 * `query`: VTQL over one module, compiled to parameterised SQL, restricted to the records the caller may
 * see (sharing), at most 100 rows per call; `count(*)` answers `[{"count":"n"}]`.
 */
export const query: WsOperation = {
  name: 'query',
  method: 'GET',
  prelogin: false,
  async run(call) {
    const { principal } = requireCaller(call);
    const q = parseVtql(call.params.string('query'));
    if (q.module === 'Users') return queryWsUsers(call.ctx, compileVtql(q, usersVtqlTarget));
    const meta = await wsModule(call.ctx, principal, q.module, 'view');
    const c = compileVtql(q, moduleVtqlTarget(meta));
    const db = call.ctx.db.kysely;
    const scope = scopeCondition(await scopeFor(call.ctx, principal, meta.name, 'view'));
    const where = [...(scope ? [scope] : []), ...(c.where ? [c.where] : [])];
    if (c.select === 'count') return [{ count: String(await countRecords(db, meta, where)) }];
    const rows = await selectRecords(db, meta, where, {
      // id breaks ties so LIMIT m,n pages are stable
      order: [...(c.orderBy ?? []), { expr: sql.ref('e.id'), desc: false }],
      limit: c.limit,
      offset: c.offset,
    });
    const fields = q.columns.kind === 'list' ? c.select : undefined;
    return toWsRecords(db, meta, rows, { fields, withLabel: false });
  },
};
