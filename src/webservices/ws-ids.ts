import { INT_COLUMN_MAX } from '../db/columns.js';
import type { ModuleDef } from '../records/field.types.js';
import { STANDARD_MODULES } from '../records/modules/index.js';
import { USERS_WS_PREFIX } from './ws-deps.js';
import { WS_MESSAGES, WsError } from './ws-errors.js';

export interface WsId {
  prefix: number;
  id: number;
}

/**
 * Splits `NxM` as `vtws_getIdComponents` does. Anything that is not two positive integers joined by `x`
 * resolves to no record: Vtiger then answers the generic ACCESS_DENIED (captures err-26, err-27).
 */
export function parseWsId(raw: unknown): WsId | null {
  if (typeof raw !== 'string') return null;
  const m = /^(\d{1,9})x(\d{1,15})$/.exec(raw.trim());
  if (!m) return null;
  const prefix = Number(m[1]);
  const id = Number(m[2]);
  // an id no id column can hold resolves to no record, on either database
  return id > 0 && id <= INT_COLUMN_MAX ? { prefix, id } : null;
}

export function formatWsId(prefix: number, id: number): string {
  return `${prefix}x${id}`;
}

/** The module an id prefix names: a CRM module, 'Users', or undefined for an unknown prefix. */
export function moduleForPrefix(prefix: number): ModuleDef | 'Users' | undefined {
  if (prefix === USERS_WS_PREFIX) return 'Users';
  return STANDARD_MODULES.find((m) => m.wsEntityId === prefix);
}

export function prefixForModule(name: string): number | undefined {
  if (name === 'Users') return USERS_WS_PREFIX;
  return STANDARD_MODULES.find((m) => m.name === name)?.wsEntityId;
}

/** An id for a record operation: malformed → ACCESS_DENIED, unknown prefix → "…denied for id" (err-28). */
export function requireWsId(raw: unknown): { id: number; module: ModuleDef | 'Users' } {
  const parsed = parseWsId(raw);
  if (!parsed) throw new WsError('ACCESS_DENIED', WS_MESSAGES.PERMISSION_DENIED);
  const module = moduleForPrefix(parsed.prefix);
  if (!module) throw new WsError('ACCESS_DENIED', WS_MESSAGES.PERMISSION_DENIED_FOR_ID);
  return { id: parsed.id, module };
}
