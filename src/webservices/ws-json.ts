/**
 * Serialises like PHP's `json_encode` with default flags, which is what Vtiger 8.2 sends (see the captures):
 * `/` is escaped as `\/` and every non-ASCII UTF-16 unit as `\uXXXX`. Any JSON parser reads it the same;
 * byte-level parity keeps clients that sign, diff or cache responses happy.
 *
 * The output is `JSON.stringify`'s with those escapes added (the definition a property test checks it
 * against), but written by walking the value: a page of ten Contacts is ~480 string fields,
 * most of them empty or plain ASCII, and `JSON.stringify` plus a regular-expression pass over its whole
 * output took 28 µs of a ~250 µs query (11 % of its CPU); the walk writes a plain string as it is and takes
 * ~12 µs. Anything the walk does not know as plain data (a `toJSON`, a class instance, a boxed value, a Map)
 * goes to `JSON.stringify` itself.
 */
import { type LiteralEntry, objectTextFunction } from '../platform/object-literal.js';

const NEEDS_ESCAPE = /[\u0080-\uffff/]/g;
/**
 * Strings that both `JSON.stringify` and `json_encode` write as they are, between quotes: printable ASCII and
 * DEL but `"` (0x22), `/` (0x2f) and `\` (0x5c).
 */
const PLAIN = /^[\u0020\u0021\u0023-\u002e\u0030-\u005b\u005d-\u007f]*$/;

const phpEscape = (ch: string) =>
  ch === '/' ? '\\/' : `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** `JSON.stringify` text with PHP's escapes added. */
const escapeJson = (json: string) => json.replace(NEEDS_ESCAPE, phpEscape);

function encodeString(s: string): string {
  return s === '' ? '""' : PLAIN.test(s) ? `"${s}"` : escapeJson(JSON.stringify(s));
}

/** `"key":` per property name: the names of a response repeat on every record. */
const keyTexts = new Map<string, string>();
const MAX_KEY_TEXTS = 4096;

function keyText(key: string): string {
  let text = keyTexts.get(key);
  if (text === undefined) {
    text = `${encodeString(key)}:`;
    if (keyTexts.size < MAX_KEY_TEXTS) keyTexts.set(key, text);
  }
  return text;
}

/** What `JSON.stringify` leaves out of an object and writes as `null` in an array. */
const omitted = (v: unknown) => v === undefined || typeof v === 'function' || typeof v === 'symbol';

function encode(value: unknown, key: string): string {
  switch (typeof value) {
    case 'string':
      return encodeString(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (value instanceof PhpJson) return value.json;
      const toJSON = (value as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') {
        const replaced: unknown = toJSON.call(value, key);
        return omitted(replaced) ? 'null' : encode(replaced, key);
      }
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out += ',';
          const item: unknown = value[i];
          out += omitted(item) ? 'null' : encode(item, String(i));
        }
        return `${out}]`;
      }
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return escapeJson(JSON.stringify(value));
      const obj = value as Record<string, unknown>;
      let out = '{';
      // for…in visits the own enumerable string keys in JSON.stringify's order, and inherited ones, which a
      // plain object has none of unless Object.prototype was given some (`phpJsonEncode` checks)
      for (const k in obj) {
        const v = obj[k];
        if (omitted(v) || (ownKeysOnly && !Object.hasOwn(obj, k))) continue;
        if (out.length > 1) out += ',';
        out += keyText(k) + encode(v, k);
      }
      return `${out}}`;
    }
    default:
      // undefined, functions and symbols at the top; a bigint throws as JSON.stringify does
      return escapeJson(JSON.stringify(value) ?? 'null');
  }
}

/**
 * Set per `phpJsonEncode` call: whether anything added an enumerable property to `Object.prototype`, which
 * `for…in` would visit. Only then does the walk pay for checking each key (`Object.hasOwn`, ~10 µs a page).
 */
let ownKeysOnly = false;

function prototypeHasEnumerable(): boolean {
  for (const _ in Object.prototype) return true;
  return false;
}

/** JSON text that `phpJsonEncode` writes into its output as it is: made by it, or written as it writes. */
export class PhpJson {
  constructor(readonly json: string) {}
}

/**
 * A function of `params` that writes the JSON object of `entries` in their order: what `phpJsonEncode`
 * writes for the object `literalFunction` builds from the same entries (without a property whose value is
 * undefined, a function or a symbol), without building it. For records written straight to a response.
 */
export function phpJsonObjectFunction<F>(params: readonly string[], entries: readonly LiteralEntry[]): F {
  return objectTextFunction<F>(params, entries, (key) => `${encodeString(key)}:`, valueText);
}

/** A property's value as `phpJsonEncode` writes it, or undefined for one an object leaves out. */
function valueText(value: unknown, key: string): string | undefined {
  return typeof value === 'string' ? encodeString(value) : omitted(value) ? undefined : encode(value, key);
}

export function phpJsonEncode(value: unknown): string {
  ownKeysOnly = prototypeHasEnumerable();
  return encode(value, '');
}

export function successBody(result: unknown): string {
  return phpJsonEncode({ success: true, result });
}

/** Vtiger puts `message` before `code` in the error object. */
export function errorBody(code: string, message: string): string {
  return phpJsonEncode({ success: false, error: { message, code } });
}
