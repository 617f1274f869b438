import type { FastifyRequest } from 'fastify';
import { actorFromRequest } from '../audit/audit.repository.js';
import type { AppContext } from '../context.js';
import type { RecordWriter } from '../records/record-change.model.js';
import type { Principal } from '../roles/permissions.js';
import type { User } from '../users/user.model.js';
import type { WsKeyFunctions } from './ws-deps.js';
import type { WsParams } from './ws-params.js';

/** The signed-in side of a web-service call, resolved from `sessionName`. */
export interface WsCaller {
  user: User;
  principal: Principal;
  sessionId: number;
  keyId: number;
}

export interface WsDeps {
  keys: WsKeyFunctions;
}

export interface WsCall {
  ctx: AppContext;
  deps: WsDeps;
  req: FastifyRequest;
  method: string;
  params: WsParams;
  /** null only for pre-login operations */
  caller: WsCaller | null;
}

/**
 * One row of Vtiger's `vtiger_ws_operation`: `method` decides where parameters are read from (GET → query
 * string only, POST → form body only); `prelogin` operations need no session.
 */
export interface WsOperation {
  name: string;
  method: 'GET' | 'POST';
  prelogin: boolean;
  run(call: WsCall): Promise<unknown>;
}

export function requireCaller(call: WsCall): WsCaller {
  if (!call.caller) throw new Error(`operation needs a session but ran without one`);
  return call.caller;
}

/** The caller as a record writer: changes made here show the web-service channel in history. */
export function wsWriter(call: WsCall): RecordWriter {
  const { user, principal } = requireCaller(call);
  return {
    principal,
    actor: { ...actorFromRequest(call.req), userId: user.id, username: user.username },
    channel: 'webservice',
    signedIn: true,
  };
}
