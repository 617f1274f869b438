import { updateRecord } from '../../records/record.service.js';
import { moduleViewFor } from '../../records/record-presenter.js';
import { getRecord } from '../../records/record-read.service.js';
import { countRelated, findRelation, relatedRecords, relationsOf } from '../../records/record-relations.js';
import { compileVtql } from '../vtql/vtql-compiler.js';
import { parseVtql } from '../vtql/vtql-parser.js';
import { permissionDenied, WS_MESSAGES, WsError } from '../ws-errors.js';
import { requireWsId } from '../ws-ids.js';
import { wsModule } from '../ws-module-access.js';
import { requireCaller, type WsCall, type WsOperation, wsWriter } from '../ws-operation.js';
import { wsRecordsJson } from '../ws-record-format.js';
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

/** The source record (which must be visible), the named relation and the caller's view of its target. */
async function sourceAndRelation(call: WsCall, rawId: unknown, label: string, relatedType?: string) {
  const { principal } = requireCaller(call);
  const { id, module } = requireWsId(rawId);
  if (module === 'Users') throw permissionDenied();
  const meta = await wsModule(call.ctx, principal, module.name, 'view');
  await getRecord(call.ctx, principal, meta, id);
  const relation = await findRelation(call.ctx, principal, meta.name, label, relatedType);
  if (!relation) throw new WsError('UNKOWN_ENTITY', WS_MESSAGES.UNKNOWN_RELATION);
  const view = await moduleViewFor(call.ctx, principal, relation.target);
  return { id, relation, view };
}

export const retrieveRelated: WsOperation = {
  name: 'retrieve_related',
  method: 'GET',
  prelogin: false,
  async run(call) {
    const relatedType = call.params.string('relatedType');
    const { id, relation, view } = await sourceAndRelation(
      call,
      call.params.get('id'),
      call.params.string('relatedLabel') || relatedType,
      relatedType,
    );
    const rows = await relatedRecords(call.ctx, view, relation, id, { limit: MAX_RELATED });
    return wsRecordsJson(call.ctx, relation.target, rows);
  },
};

export const queryRelated: WsOperation = {
  name: 'query_related',
  method: 'GET',
  prelogin: false,
  async run(call) {
    const q = parseVtql(call.params.string('query'));
    const { id, relation, view } = await sourceAndRelation(
      call,
      call.params.get('id'),
      call.params.string('relatedLabel'),
      q.module,
    );
    const c = compileVtql(q, moduleVtqlTarget(view));
    const where = c.where ? [c.where] : [];
    if (c.select === 'count')
      return [{ count: String(await countRelated(call.ctx, view, relation, id, where)) }];
    const rows = await relatedRecords(call.ctx, view, relation, id, {
      where,
      order: c.orderBy ?? [],
      limit: c.limit,
      offset: c.offset,
    });
    return wsRecordsJson(call.ctx, relation.target, rows, {
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
      await updateRecord(
        call.ctx,
        wsWriter(call),
        relation.target,
        related.id,
        { [field]: id },
        { mode: 'partial' },
      );
    }
    return { message: 'successfull' };
  },
};
