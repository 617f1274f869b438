import type { WsOperation } from '../ws-operation.js';
import { getChallenge, login, logout } from './auth.ops.js';
import { listTypes } from './listtypes.op.js';

/** Every operation `/webservice.php` answers, keyed by lower-case name (Vtiger lower-cases `operation`). */
export function wsOperations(): Map<string, WsOperation> {
  const all: WsOperation[] = [getChallenge, login, logout, listTypes];
  return new Map(all.map((op) => [op.name.toLowerCase(), op]));
}
