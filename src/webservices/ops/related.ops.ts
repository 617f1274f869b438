import { type SqlBool, sql } from 'kysely';
import { countRecords, selectRecords } from '../../records/record.repository.js';
import { getRecord, updateRecord } from '../../records/record.service.js';
import { scopeFor } from '../../records/record-access.js';
import { scopeCondition } from '../../records/record-scope.js';
import { compileVtql } from '../vtql/vtql-compiler.js';
import { parseVtql } from '../vtql/vtql-parser.js';
import { permissionDenied, WS_MESSAGES, WsError } from '../ws-errors.js';
import { requireWsId } from '../ws-ids.js';
import { wsModule } from '../ws-module-access.js';
import { requireCaller, type WsCall, type WsOperation } from '../ws-operation.js';
import { wsRecords } from '../ws-record-errors.js';
import { toWsRecords } from '../ws-record-format.js';
import { findRelation, relationsOf, type WsRelation } from '../ws-relations.js';
import { moduleVtqlTarget } from '../ws-vtql-target.js';

const MAX_RELATED = 1000;

export const relatedTypes: WsOperation = {
  name: 'relatedtypes',
  method: 'GET',
  prelogin: false,
  async run(call) {
    const { principal } = requireCaller(call);
    const meta = await wsModule(call.ctx, principal, call.params.string('elementType'), 'view');
    const relations = await relationsOf(call.ctx, principal, meta.name);
    const information: Record<string, { name: string; label: string; isEntity: boolean }> = {};
    for (const r of relations) information[r.label] = { name: r.target.name, label: r.label, isEntity: true };
    return { types: relations.map((r) => r.target.name), information };
  },
};

/** The source record (which must be visible) and the named relation, or Vtiger's refusals. */
async function sourceAndRelation(call: WsCall, rawId: unknown, label: string, relatedType?: string) {
  const { principal } = requireCaller(call);
  const { id, module } = requireWsId(rawId);
  if (module === 'Users') throw permissionDenied();
  const meta = await wsModule(call.ctx, principal, module.name, 'view');
  await wsRecords(() => getRecord(call.ctx, principal, meta, id));
  const relation = await findRelation(call.ctx, principal, meta.name, label, relatedType);
  if (!relation) throw new WsError('UNKOWN_ENTITY', WS_MESSAGES.UNKNOWN_RELATION);
  return { id, relation };
}

function pointsAt(relation: WsRelation, id: number) {
  return sql<SqlBool>`(${sql.join(
    relation.fields.map((f) => sql`${sql.ref(`m.${f}`)} = ${id}`),
    sql` OR `,
  )})`;
}

export const retrieveRelated: WsOperation = {
  name: 'retrieve_related',
  method: 'GET',
  prelogin: false,
  async run(call) {
    const { principal } = requireCaller(call);
    const relatedType = call.params.string('relatedType');
    const { id, relation } = await sourceAndRelation(
      call,
      call.params.get('id'),
      call.params.string('relatedLabel') || relatedType,
      relatedType,
    );
    const db = call.ctx.db.kysely;
    const scope = scopeCondition(await scopeFor(call.ctx, principal, relation.target.name, 'view'));
    const rows = await selectRecords(
      db,
      relation.target,
      [pointsAt(relation, id), ...(scope ? [scope] : [])],
      {
        order: [{ expr: sql.ref('e.id'), desc: false }],
        limit: MAX_RELATED,
      },
    );
    return toWsRecords(db, relation.target, rows);
  },
};

export const queryRelated: WsOperation = {
  name: 'query_related',
  method: 'GET',
  prelogin: false,
  async run(call) {
    const { principal } = requireCaller(call);
    const q = parseVtql(call.params.string('query'));
    const { id, relation } = await sourceAndRelation(
      call,
      call.params.get('id'),
      call.params.string('relatedLabel'),
      q.module,
    );
    const c = compileVtql(q, moduleVtqlTarget(relation.target));
    const db = call.ctx.db.kysely;
    const scope = scopeCondition(await scopeFor(call.ctx, principal, relation.target.name, 'view'));
    const where = [pointsAt(relation, id), ...(scope ? [scope] : []), ...(c.where ? [c.where] : [])];
    if (c.select === 'count') {
      return [{ count: String(await countRecords(db, relation.target, where)) }];
    }
    const rows = await selectRecords(db, relation.target, where, {
      order: [...(c.orderBy ?? []), { expr: sql.ref('e.id'), desc: false }],
      limit: c.limit,
      offset: c.offset,
    });
    return toWsRecords(db, relation.target, rows, {
      fields: q.columns.kind === 'list' ? c.select : undefined,
      withLabel: false,
    });
  },
};

/** `add_related`: points the related records' reference field at the source record. */
export const addRelated: WsOperation = {
  name: 'add_related',
  method: 'POST',
  prelogin: false,
  async run(call) {
    const { principal } = requireCaller(call);
    const rawRelated = call.params.string('relatedRecordId');
    let relatedIds: unknown[] = [rawRelated];
    if (rawRelated.trim().startsWith('[')) {
      const list = call.params.jsonValue('relatedRecordId');
      relatedIds = Array.isArray(list) ? list : [];
    }
    const first = requireWsId(relatedIds[0]);
    if (first.module === 'Users') throw permissionDenied();
    const label = call.params.string('relationIdLabel') || first.module.name;
    const { id, relation } = await sourceAndRelation(
      call,
      call.params.get('sourceRecordId'),
      label,
      first.module.name,
    );
    const field = relation.fields[0]!;
    await wsModule(call.ctx, principal, relation.target.name, 'edit');
    for (const raw of relatedIds) {
      const related = requireWsId(raw);
      if (related.module === 'Users' || related.module.name !== relation.target.name) {
        throw new WsError('FAILED_TO_CREATE_RELATION', 'Failed to create relation');
      }
      await wsRecords(() =>
        updateRecord(
          call.ctx,
          principal,
          relation.target.name,
          related.id,
          { [field]: id },
          { mode: 'partial' },
        ),
      );
    }
    return { message: 'successfull' };
  },
};
