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
