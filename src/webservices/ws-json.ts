/**
 * Serialises like PHP's `json_encode` with default flags, which is what Vtiger 8.2 sends (see the captures):
 * `/` is escaped as `\/` and every non-ASCII UTF-16 unit as `\uXXXX`. Any JSON parser reads it the same;
 * byte-level parity keeps clients that sign, diff or cache responses happy.
 */
const NEEDS_ESCAPE = /[\u0080-\uffff/]/g;

export function phpJsonEncode(value: unknown): string {
  return JSON.stringify(value).replace(NEEDS_ESCAPE, (ch) =>
    ch === '/' ? '\\/' : `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

export function successBody(result: unknown): string {
  return phpJsonEncode({ success: true, result });
}

/** Vtiger puts `message` before `code` in the error object. */
export function errorBody(code: string, message: string): string {
  return phpJsonEncode({ success: false, error: { message, code } });
}
