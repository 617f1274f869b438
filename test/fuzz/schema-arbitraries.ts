import fc from 'fast-check';

/** The parts of a JSON Schema (as `/api/openapi.json` gives them) that request generation reads. */
export interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  format?: string;
  pattern?: string;
}

/** Field names of the CRM modules, for free-form record bodies (their schema lists no properties). */
const FIELD_NAMES = [
  'lastname',
  'firstname',
  'email',
  'phone',
  'account_id',
  'contact_id',
  'assigned_user_id',
  'accountname',
  'potentialname',
  'amount',
  'closingdate',
  'sales_stage',
  'productname',
  'unit_price',
  'qtyinstock',
  'subject',
  'ticket_title',
  'ticketstatus',
  'birthday',
  'emailoptout',
  'lineItems',
  'version',
  'cf_1',
];

/** Values that broke something somewhere once: NUL, 32/53-bit edges, huge text, odd types, escapes. */
export const HOSTILE: fc.Arbitrary<unknown> = fc.constantFrom(
  '\u0000',
  'a\u0000b',
  2 ** 31,
  2 ** 31 - 1,
  2 ** 53,
  -(2 ** 31) - 1,
  -1,
  0,
  1.5,
  '',
  ' ',
  'x'.repeat(5000),
  '9'.repeat(40),
  '1e400',
  '-0',
  null,
  true,
  [],
  {},
  [null],
  '%00',
  '../../etc/passwd',
  "' OR 1=1 --",
  'abc\\',
  '\\',
  '%',
  '_',
  '\ud800',
  '💥',
  '2026-13-45T99:99:99Z',
  '12x3000000000',
);

/** Integers at the edges of the columns that hold them. */
export const EDGE_INTEGERS = fc.constantFrom(2 ** 31, 2 ** 31 - 1, 2 ** 53 - 1, -(2 ** 31) - 1, 0, -1);
/** Strings that a database may refuse: NUL, a trailing LIKE escape, a lone surrogate, digits too big. */
export const EDGE_STRINGS = fc.constantFrom('\u0000', 'a\u0000b', 'abc\\', '%_\\', '\ud800', '3000000000');

/** A value that fits the schema most of the time and is hostile the rest. */
export function fromSchema(schema: JsonSchema | undefined, depth = 0): fc.Arbitrary<unknown> {
  return fc.oneof(
    { arbitrary: validFromSchema(schema ?? {}, depth), weight: 4 },
    { arbitrary: HOSTILE, weight: 1 },
  );
}

function validFromSchema(schema: JsonSchema, depth: number): fc.Arbitrary<unknown> {
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum?.length) return fc.constantFrom(...schema.enum);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives?.length) return fc.oneof(...alternatives.map((s) => validFromSchema(s, depth)));
  if (schema.allOf?.length) return validFromSchema(schema.allOf[0]!, depth);
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  if (types.length > 1) return fc.oneof(...types.map((type) => validFromSchema({ ...schema, type }, depth)));
  switch (types[0]) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer':
      return fc.oneof(
        {
          arbitrary: fc.integer({
            min: Math.max(schema.minimum ?? -5, -1000),
            max: Math.min(schema.maximum ?? 50, 1000),
          }),
          weight: 3,
        },
        { arbitrary: EDGE_INTEGERS, weight: 2 },
      );
    case 'number':
      return fc.double({ noNaN: true, min: -1e6, max: 1e6 });
    case 'string':
      if (schema.format === 'email') return fc.emailAddress();
      if (schema.format === 'date-time') return fc.date({ noInvalidDate: true }).map((d) => d.toISOString());
      if (schema.pattern) {
        try {
          return fc
            .stringMatching(new RegExp(schema.pattern))
            .filter((v) => v.length <= (schema.maxLength ?? 200));
        } catch {
          // a pattern fast-check cannot generate from: plain strings
        }
      }
      return fc.oneof(
        { arbitrary: fc.string({ maxLength: Math.min(schema.maxLength ?? 40, 40) }), weight: 3 },
        { arbitrary: EDGE_STRINGS, weight: 1 },
      );
    case 'array':
      return depth > 3 ? fc.constant([]) : fc.array(fromSchema(schema.items, depth + 1), { maxLength: 3 });
    case 'object':
      return objectFromSchema(schema, depth);
    default:
      return fc.jsonValue({ maxDepth: 1 });
  }
}

function objectFromSchema(schema: JsonSchema, depth: number): fc.Arbitrary<unknown> {
  const props = schema.properties ?? {};
  if (depth > 3 || Object.keys(props).length === 0) {
    const value = fc.oneof(HOSTILE, fc.string({ maxLength: 20 }), fc.integer(), fc.boolean());
    return fc.dictionary(fc.oneof(fc.constantFrom(...FIELD_NAMES), fc.string({ maxLength: 8 })), value, {
      maxKeys: 4,
    });
  }
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [name, s] of Object.entries(props)) model[name] = fromSchema(s, depth + 1);
  const required = (schema.required ?? []).filter((k) => k in model);
  return fc.record(model, { requiredKeys: required });
}
