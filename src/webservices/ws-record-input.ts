import type { ModuleMeta } from '../records/module-meta.js';
import { USERS_WS_PREFIX } from './ws-deps.js';
import { WsError } from './ws-errors.js';
import { parseWsId, prefixForModule } from './ws-ids.js';

export type WsInputMode = 'create' | 'update' | 'revise';

function isEmpty(v: unknown): boolean {
  return v === undefined || v === null || (typeof v === 'string' && v.trim() === '');
}

/**
 * Vtiger's mandatory-field rules, checked first so the message is Vtiger's "<field> does not have a value":
 * create and update need every mandatory field, revise only those it sends.
 */
function checkMandatory(meta: ModuleMeta, element: Record<string, unknown>, mode: WsInputMode): void {
  for (const field of meta.fields) {
    if (!field.mandatory || !field.editable) continue;
    const present = Object.hasOwn(element, field.name);
    // an omitted owner defaults to the caller on create, as Rapport's REST API does
    if (field.name === 'assigned_user_id' && mode === 'create' && !present) continue;
    if (mode === 'revise' && !present) continue;
    if (isEmpty(element[field.name])) {
      throw new WsError('MANDATORY_FIELDS_MISSING', `${field.name} does not have a value`);
    }
  }
}

/**
 * An `element` as the record layer takes it: keys that are not fields of the module are dropped (Vtiger
 * ignores them, and clients send back whole records with `id`, `label`…); `NxM` references and owners keep
 * only M after their prefix is checked; an empty reference on update is dropped, not cleared (Vtiger).
 */
export function recordInput(meta: ModuleMeta, element: Record<string, unknown>, mode: WsInputMode) {
  checkMandatory(meta, element, mode);
  const out: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(element)) {
    const field = meta.fieldMap.get(name);
    if (!field?.editable) continue;
    if (field.type !== 'reference' && field.type !== 'owner') {
      out[name] = typeof raw === 'number' || typeof raw === 'boolean' ? String(raw) : raw;
      continue;
    }
    if (isEmpty(raw)) {
      if (mode === 'create' || field.type === 'owner') continue;
      if (mode === 'update') continue;
      out[name] = null;
      continue;
    }
    const id = parseWsId(raw);
    const allowed =
      field.type === 'owner' ? [USERS_WS_PREFIX] : (field.refersTo ?? []).map((m) => prefixForModule(m));
    if (!id || !allowed.includes(id.prefix)) {
      if (field.type === 'owner')
        throw new WsError('ACCESS_DENIED', 'Cannot assign record to the given user');
      throw new WsError('REFERENCE_INVALID', `Invalid reference specified for ${name}`);
    }
    out[name] = id.id;
  }
  if (meta.hasLineItems && element.LineItems !== undefined) out.lineItems = lineItemsInput(element.LineItems);
  return out;
}

/** Vtiger's LineItems (`productid` as `14xM`) in the record layer's shape. */
function lineItemsInput(raw: unknown): unknown {
  if (!Array.isArray(raw)) return raw;
  return raw.map((item) => {
    if (typeof item !== 'object' || item === null) return item;
    const it = item as Record<string, unknown>;
    const product = parseWsId(it.productid);
    return {
      product_id: product ? product.id : it.productid,
      quantity: it.quantity,
      listprice: it.listprice === '' ? undefined : it.listprice,
      discount_percent: it.discount_percent,
      discount_amount: it.discount_amount,
      comment: it.comment,
    };
  });
}
