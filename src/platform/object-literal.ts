/** One property of a generated literal: its key, and its value's expression, given the key already quoted. */
export type LiteralEntry = readonly [key: string, value: (quotedKey: string) => string];

/**
 * A function of `params` that returns one object literal of `entries`, in their order. Every object it
 * returns gets its final shape at once: built by 40+ assignments of computed keys (rows, records), such
 * objects cost several times more, and their shapes depended on what had run before (docs/performance.md,
 * "A page of 100 records"). Each key is quoted here and written as a computed key (`["name"]`), and a
 * value's expression sees the key only quoted: no key (column and field names, which admins and databases
 * choose) can run as code or set the prototype. The expressions themselves are the caller's code, never data.
 */
export function literalFunction<F>(params: readonly string[], entries: readonly LiteralEntry[]): F {
  const props = entries.map(([key, value]) => {
    const k = JSON.stringify(key);
    return `[${k}]: ${value(k)}`;
  });
  return new Function(...params, `return { ${props.join(', ')} };`) as F;
}

/**
 * A function of `params` that writes the text of one JSON object of `entries`, in their order, without
 * building the object: each present value as `keyText(key) + value text`, comma-separated, where `valueText`
 * answers a value's text or undefined for one the object leaves out. Keys are quoted here as in
 * `literalFunction`, and each key's text goes into the code as a string literal: no key runs as code.
 */
export function objectTextFunction<F>(
  params: readonly string[],
  entries: readonly LiteralEntry[],
  keyText: (key: string) => string,
  valueText: (value: unknown, key: string) => string | undefined,
): F {
  const parts = entries.map(([key, value]) => {
    const k = JSON.stringify(key);
    const prefix = JSON.stringify(keyText(key));
    return `t = text(${value(k)}, ${k}); if (t !== undefined) s += (s.length === 1 ? ${prefix} : "," + ${prefix}) + t;`;
  });
  return new Function(
    'text',
    `return (${params.join(', ')}) => { let s = "{", t; ${parts.join(' ')} return s + "}"; };`,
  )(valueText) as F;
}
