import { describe, expect, it } from 'vitest';
import { errorBody, phpJsonEncode, successBody } from './ws-json.js';

describe('PHP-compatible JSON', () => {
  it('escapes / and non-ASCII like json_encode, as the Vtiger 8.2 captures show', () => {
    expect(phpJsonEncode({ d: `quote ' and "double" and unicode é`, u: 'a/b', e: '😀' })).toBe(
      '{"d":"quote \' and \\"double\\" and unicode \\u00e9","u":"a\\/b","e":"\\ud83d\\ude00"}',
    );
  });

  it('puts message before code in errors, and parses back to the same values', () => {
    expect(errorBody('ACCESS_DENIED', 'No username given')).toBe(
      '{"success":false,"error":{"message":"No username given","code":"ACCESS_DENIED"}}',
    );
    const value = { s: 'ünïcödé / \u2028', n: 1, a: [] };
    expect(JSON.parse(successBody(value))).toEqual({ success: true, result: value });
  });
});
