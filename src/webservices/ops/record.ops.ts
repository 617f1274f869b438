import { createRecord, deleteRecord, updateRecord } from '../../records/record.service.js';
import { getRecord } from '../../records/record-read.service.js';
import { findUserById } from '../../users/user.repository.js';
import { permissionDenied, WsError } from '../ws-errors.js';
import { requireWsId } from '../ws-ids.js';
import { wsModule } from '../ws-module-access.js';
import { requireCaller, type WsCall, type WsOperation, wsWriter } from '../ws-operation.js';
import { toWsRecord, wsRecordJson } from '../ws-record-format.js';
import { recordInput, type WsInputMode } from '../ws-record-input.js';
import { wsUser } from '../ws-users.js';

export const create: WsOperation = {
  name: 'create',
  method: 'POST',
  prelogin: false,
  async run(call) {
    const { principal } = requireCaller(call);
    const meta = await wsModule(call.ctx, principal, call.params.string('elementType'), 'create');
    const input = recordInput(meta, call.params.jsonObject('element'), 'create');
    const rec = await createRecord(call.ctx, wsWriter(call), meta, input);
    return wsRecordJson(call.ctx, meta, rec);
  },
};

export const retrieve: WsOperation = {
  name: 'retrieve',
  method: 'GET',
  prelogin: false,
  async run(call) {
    const { principal } = requireCaller(call);
    const { id, module } = requireWsId(call.params.get('id'));
    if (module === 'Users') {
      const user = await findUserById(call.ctx.db.kysely, id);
      if (!user || user.deletedAt !== null) throw permissionDenied();
      return wsUser(user);
    }
    const meta = await wsModule(call.ctx, principal, module.name, 'view');
    return wsRecordJson(call.ctx, meta, await getRecord(call.ctx, principal, meta, id));
  },
};

async function save(call: WsCall, mode: Exclude<WsInputMode, 'create'>): Promise<unknown> {
  const { principal } = requireCaller(call);
  const element = call.params.jsonObject('element');
  const { id, module } = requireWsId(element.id);
  if (module === 'Users') throw permissionDenied();
  const meta = await wsModule(call.ctx, principal, module.name, 'edit');
  const input = recordInput(meta, element, mode);
  // Vtiger's update overlays the element on the stored record too; mandatory fields were checked above
  const rec = await updateRecord(call.ctx, wsWriter(call), meta, id, input, { mode: 'partial' });
  return wsRecordJson(call.ctx, meta, rec);
}

/** `update`: the whole record, every mandatory field included. */
export const update: WsOperation = {
  name: 'update',
  method: 'POST',
  prelogin: false,
  run: (call) => save(call, 'update'),
};

/** `revise`: only the fields sent change. */
export const revise: WsOperation = {
  name: 'revise',
  method: 'POST',
  prelogin: false,
  run: (call) => save(call, 'revise'),
};

export const remove: WsOperation = {
  name: 'delete',
  method: 'POST',
  prelogin: false,
  async run(call) {
    const { principal } = requireCaller(call);
    const { id, module } = requireWsId(call.params.get('id'));
    if (module === 'Users')
      throw new WsError('ACCESS_DENIED', 'Permission to perform the operation is denied');
    const meta = await wsModule(call.ctx, principal, module.name, 'delete');
    await deleteRecord(call.ctx, wsWriter(call), meta, id);
    return { status: 'successful' };
  },
};

/**
 * `retrieve_inventory` (`LineItem/RetrieveInventory.php`): `retrieve` with the record's `LineItems`, which is
 * an empty list for a module without line items.
 */
export const retrieveInventory: WsOperation = {
  name: 'retrieve_inventory',
  method: 'GET',
  prelogin: false,
  async run(call) {
    const { principal } = requireCaller(call);
    const { id, module } = requireWsId(call.params.get('id'));
    if (module === 'Users') throw permissionDenied();
    const meta = await wsModule(call.ctx, principal, module.name, 'view');
    const rec = await toWsRecord(call.ctx, meta, await getRecord(call.ctx, principal, meta, id));
    return { ...rec, LineItems: rec.LineItems ?? [] };
  },
};
