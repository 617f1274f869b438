import { findHostileInput } from '../http/edge-input.js';
import { WsError } from './ws-errors.js';

type Raw = Record<string, unknown>;

/** Flattens a parsed query string or form body the way PHP does: a repeated name keeps its last value. */
export function flattenParams(source: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!source || typeof source !== 'object') return out;
  for (const [k, v] of Object.entries(source as Raw)) {
    const last = Array.isArray(v) ? v[v.length - 1] : v;
    if (typeof last === 'string') out[k] = last;
    else if (typeof last === 'number' || typeof last === 'boolean') out[k] = String(last);
  }
  return out;
}

/** The parameters of one operation, read from the source its HTTP type allows. */
export class WsParams {
  constructor(private readonly values: Record<string, string>) {}

  get(name: string): string | undefined {
    return Object.hasOwn(this.values, name) ? this.values[name] : undefined;
  }

  string(name: string): string {
    return this.get(name) ?? '';
  }

  /**
   * An `encoded` parameter (Vtiger decodes it with Zend_Json into an array). Malformed JSON or a value
   * of the wrong shape is refused with Vtiger's envelope instead of failing later.
   */
  jsonObject(name: string): Record<string, unknown> {
    const value = this.parse(name);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new WsError('INVALID_REQUEST', `${name} must be a JSON object`);
    }
    return value as Record<string, unknown>;
  }

  jsonValue(name: string): unknown {
    return this.parse(name);
  }

  private parse(name: string): unknown {
    const raw = this.get(name);
    if (raw === undefined || raw.trim() === '') {
      throw new WsError('INVALID_REQUEST', `${name} is missing`);
    }
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      throw new WsError('INVALID_REQUEST', `${name} is not valid JSON`);
    }
    // the edge saw the JSON text; an escaped NUL or an oversized id only shows once it is decoded
    const hostile = findHostileInput(value, name);
    if (hostile) throw new WsError('INVALID_REQUEST', `${hostile.field} ${hostile.problem}`);
    return value;
  }
}
