import { countMatching, queryRecords, viewModule } from '../../records/record-read.service.js';
import { compileVtql } from '../vtql/vtql-compiler.js';
import { parseVtql } from '../vtql/vtql-parser.js';
import { wsModule } from '../ws-module-access.js';
import { requireCaller, type WsOperation } from '../ws-operation.js';
import { wsRecordsJson } from '../ws-record-format.js';
import { queryWsUsers, usersVtqlTarget } from '../ws-users.js';
import { moduleVtqlTarget } from '../ws-vtql-target.js';

/**
 * `query`: VTQL over one module, compiled to parameterised SQL over the fields the caller may use, run by
 * the record service over the records the caller may see, at most 100 rows per call; `count(*)` answers
 * `[{"count":"n"}]`.
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
    const view = await viewModule(call.ctx, principal, meta);
    const c = compileVtql(q, moduleVtqlTarget(view));
    const where = c.where ? [c.where] : [];
    if (c.select === 'count') return [{ count: String(await countMatching(call.ctx, view, where)) }];
    const rows = await queryRecords(call.ctx, view, {
      where,
      order: c.orderBy ?? [],
      limit: c.limit,
      offset: c.offset,
    });
    const fields = q.columns.kind === 'list' ? c.select : undefined;
    return wsRecordsJson(call.ctx, meta, rows, { fields, withLabel: false });
  },
};
