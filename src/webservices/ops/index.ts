import type { WsOperation } from '../ws-operation.js';
import { extendSession, getChallenge, login, logout } from './auth.ops.js';
import { convertlead } from './convertlead.op.js';
import { describe } from './describe.op.js';
import { listTypes } from './listtypes.op.js';
import { query } from './query.op.js';
import { create, remove, retrieve, retrieveInventory, revise, update } from './record.ops.js';
import { addRelated, queryRelated, relatedTypes, retrieveRelated } from './related.ops.js';
import { sync } from './sync.op.js';

/** Every operation `/webservice.php` answers, keyed by lower-case name (Vtiger lower-cases `operation`). */
export function wsOperations(): Map<string, WsOperation> {
  const all: WsOperation[] = [
    getChallenge,
    login,
    logout,
    extendSession,
    listTypes,
    describe,
    create,
    retrieve,
    update,
    revise,
    remove,
    query,
    sync,
    relatedTypes,
    retrieveRelated,
    queryRelated,
    addRelated,
    convertlead,
    retrieveInventory,
  ];
  return new Map(all.map((op) => [op.name.toLowerCase(), op]));
}
