// Requests generated from the OpenAPI document: for each operation, values shaped by its schemas,
// with hostile values anywhere in them (deep nesting, huge, negative, fractional and non-finite
// numbers, lone surrogates, U+0000, very long strings, wrong types, arrays for objects, card
// numbers), sent as JSON, as forms (with repeated fields) or under odd content types, with odd path
// ids and good, bad or missing credentials.
import fc from 'fast-check';

export type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  patternProperties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  format?: string;
  $ref?: string;
};

export type Operation = {
  readonly method: string;
  /** OpenAPI path, with {name} placeholders. */
  readonly path: string;
  readonly security: 'merchant' | 'admin' | 'none';
  readonly pathParams: readonly { name: string; schema: JsonSchema }[];
  readonly query: readonly { name: string; schema: JsonSchema; required: boolean }[];
  readonly body: JsonSchema | undefined;
};

/** JSON text that JSON.stringify cannot write: `1e400`, a 20-digit integer, nesting 10,000 deep. */
export class RawJson {
  readonly json: string;
  readonly text: string;
  constructor(json: string, text = json) {
    this.json = json;
    this.text = text;
  }
}

/** Ids the fuzz made, so that generated requests reach past the lookups into the services. */
export type Pools = {
  readonly ids: readonly string[];
  readonly merchantKey: string;
  readonly otherMerchantKey: string;
  readonly adminKey: string;
};

export type GeneratedRequest = {
  readonly operation: Operation;
  readonly method: string;
  /** Raw, already percent-encoded (or deliberately not), path and query. */
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string | undefined;
};

const cardNumbers = [
  '4242424242424242',
  '4000 0000 0000 0002',
  '5555-5555-5555-4444',
  '378282246310005',
];

const deep = (depth: number, open: string, close: string, leaf = '1') =>
  new RawJson(`${open.repeat(depth)}${leaf}${close.repeat(depth)}`, 'deep');

const hostileNumber = fc.oneof(
  fc.constantFrom(
    new RawJson('1e400'),
    new RawJson('-1e400'),
    new RawJson('1e30'),
    new RawJson('18446744073709551616'),
    new RawJson('9223372036854775808'),
    new RawJson('-9223372036854775809'),
    new RawJson('9007199254740993'),
    new RawJson('-0'),
    new RawJson('0.1e1'),
    new RawJson('1E2'),
    new RawJson('Infinity', 'Infinity'),
    new RawJson('NaN', 'NaN'),
  ),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(-1, 0, 0.5, -0.5, 1.5, Number.MAX_SAFE_INTEGER, Number.MAX_VALUE, 1e21),
);

const hostileString = fc.oneof(
  fc.constantFrom(
    '\ud800',
    'a\udc00b',
    '\udfff\ud800',
    '\u0000',
    'a\u0000',
    '',
    ' ',
    '__proto__',
    'constructor',
    "'; DROP TABLE payment_intents; --",
    '../../etc/passwd',
    '%00',
    '\u202e\u200b\ufeff',
    '😀'.repeat(50),
    ...cardNumbers,
  ),
  fc.integer({ min: 1, max: 6 }).map((power) => 'x'.repeat(10 ** power / 2)),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
);

const deepValue = fc.oneof(
  fc.integer({ min: 15, max: 40 }).map((depth) => deep(depth, '{"a":', '}')),
  fc.integer({ min: 15, max: 40 }).map((depth) => deep(depth, '[', ']')),
  fc.constantFrom(10_000, 60_000).map((depth) => deep(depth, '[', ']', '')),
  fc.constantFrom(10_000, 30_000).map((depth) => deep(depth, '{"k":', '}', '"v"')),
);

export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: hostileString },
  { weight: 3, arbitrary: hostileNumber },
  { weight: 2, arbitrary: deepValue },
  {
    weight: 1,
    arbitrary: fc.constantFrom(true, false, null, [], {}, [[]], [{}], { a: { b: {} } }),
  },
  { weight: 1, arbitrary: fc.array(hostileString, { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.dictionary(hostileString, hostileString, { maxKeys: 3 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);

/** Values the schema accepts (or nearly), with a hostile value in any place now and then. */
function valueFor(schema: JsonSchema | undefined, depth: number): fc.Arbitrary<unknown> {
  if (schema === undefined || depth > 8) return hostileValue;
  return fc.oneof(
    { weight: 9, arbitrary: wellShaped(schema, depth) },
    { weight: 1, arbitrary: hostileValue },
  );
}

/** Words the API knows, so that a generated body gets past its lookups now and then. */
const knownWords = [
  'usd',
  'eur',
  'jpy',
  'inr',
  'card',
  'manual',
  'automatic',
  'stripe',
  'razorpay',
  'paytm',
  'pm_card_visa',
  'pm_card_chargeDeclined',
  'requested_by_customer',
  'duplicate',
  'payment_intent.succeeded',
  'https://hooks.merchant.test/x',
  // Addresses the webhook guard must refuse (ssrf.ts), in several spellings.
  'https://169.254.169.254/latest/meta-data',
  'http://[::ffff:7f00:1]:9/x',
  'http://0x7f.1:9/x',
  'https://167772161/x',
  'https://[fd00::1]/x',
  'http://localhost:9/x',
  '*',
];

/** Any UTF-16 code unit: lone surrogate halves and U+0000 among them. */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit));

function stringFor(schema: JsonSchema): fc.Arbitrary<unknown> {
  const minLength = schema.minLength ?? 0;
  const maxLength = Math.min(schema.maxLength ?? 30, minLength + 30);
  const fits = (text: string) =>
    text.length >= minLength &&
    text.length <= (schema.maxLength ?? Infinity) &&
    (schema.pattern === undefined || new RegExp(schema.pattern, 'u').test(text));
  const known = knownWords.filter(fits);
  const free = fc.oneof(
    { weight: 3, arbitrary: fc.string({ minLength, maxLength }) },
    { weight: 2, arbitrary: fc.string({ unit: codeUnit, minLength, maxLength }) },
  );
  let shaped: fc.Arbitrary<unknown> = free;
  if (schema.pattern !== undefined) {
    try {
      shaped = fc.stringMatching(new RegExp(schema.pattern)).filter(fits);
    } catch {
      // A pattern fast-check cannot generate from: free strings instead.
    }
  }
  return known.length === 0
    ? shaped
    : fc.oneof(
        { weight: 3, arbitrary: shaped },
        { weight: 3, arbitrary: fc.constantFrom(...known) },
      );
}

function wellShaped(schema: JsonSchema, depth: number): fc.Arbitrary<unknown> {
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum !== undefined && schema.enum.length > 0) return fc.constantFrom(...schema.enum);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives !== undefined && alternatives.length > 0)
    return fc.oneof(...alternatives.map((alternative) => valueFor(alternative, depth + 1)));
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'string':
      return stringFor(schema);
    case 'integer':
      return fc.integer({
        min: Math.max(schema.minimum ?? -1_000, Number.MIN_SAFE_INTEGER),
        max: Math.min(schema.maximum ?? 1_000_000, Number.MAX_SAFE_INTEGER),
      });
    case 'number':
      return fc.double({
        min: schema.minimum ?? -1e6,
        max: schema.maximum ?? 1e6,
        noNaN: true,
        noDefaultInfinity: true,
      });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(valueFor(schema.items, depth + 1), {
        minLength: schema.minItems ?? 0,
        maxLength: Math.min(schema.maxItems ?? 3, (schema.minItems ?? 0) + 3),
      });
    case 'object':
      return objectFor(schema, depth);
    default:
      return hostileValue;
  }
}

function objectFor(schema: JsonSchema, depth: number): fc.Arbitrary<unknown> {
  const properties = Object.entries(schema.properties ?? {});
  const required = new Set(schema.required ?? []);
  // Optional fields only now and then: each one present is one more chance of a refusal that
  // keeps the rest of the body from reaching the service.
  const absent = Symbol('absent');
  const known = fc
    .tuple(
      ...properties.map(([name, child]) =>
        (required.has(name)
          ? valueFor(child, depth + 1)
          : fc.oneof(
              { weight: 2, arbitrary: fc.constant(absent) },
              { weight: 1, arbitrary: valueFor(child, depth + 1) },
            )
        ).map((value) => [name, value] as const),
      ),
    )
    .map((entries) => Object.fromEntries(entries.filter(([, value]) => value !== absent)));
  const record = schema.patternProperties ?? {};
  const recordValue =
    Object.values(record)[0] ??
    (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
  const extra =
    recordValue === undefined
      ? fc.oneof(
          { weight: 5, arbitrary: fc.constant({}) },
          { weight: 1, arbitrary: fc.dictionary(hostileString, hostileValue, { maxKeys: 2 }) },
        )
      : fc.dictionary(
          fc.oneof(fc.string({ minLength: 1, maxLength: 10 }), hostileString),
          valueFor(recordValue, depth + 1),
          { maxKeys: 4 },
        );
  return fc.tuple(known, extra).map(([own, more]) => ({ ...more, ...own }));
}

// ---------------------------------------------------------------------------------------------
// Encoding

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof RawJson)
  );
}

/** JSON text with RawJson pieces written as they are. Recursive over generated values only. */
export function toJsonText(value: unknown): string {
  if (value instanceof RawJson) return value.json;
  if (Array.isArray(value)) return `[${value.map(toJsonText).join(',')}]`;
  if (isPlainObject(value))
    return `{${Object.entries(value)
      .map(([key, child]) => `${JSON.stringify(key)}:${toJsonText(child)}`)
      .join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}

/** A generated value as query or path text; objects as JSON (String() throws on some of them). */
function asText(value: unknown): string {
  return typeof value === 'string' ? value : toJsonText(value);
}

/** Percent-encoding that also takes lone surrogates (sent as the bytes of U+FFFD). */
export function percent(text: string): string {
  return [...Buffer.from(text, 'utf8')]
    .map((byte) =>
      /[A-Za-z0-9\-_.~]/.test(String.fromCharCode(byte))
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');
}

/** Stripe's bracket notation: `metadata[k]=v`, `items[0][price]=5`. */
export function toFormPairs(value: unknown, prefix = ''): [string, string][] {
  if (value instanceof RawJson)
    return value.text === 'deep' ? [[`${prefix}${'[a]'.repeat(30)}`, '1']] : [[prefix, value.text]];
  if (Array.isArray(value))
    return value.length === 0
      ? [[`${prefix}[]`, '']]
      : value.flatMap((child, index) => toFormPairs(child, `${prefix}[${index}]`));
  if (isPlainObject(value)) {
    const entries = Object.entries(value);
    if (entries.length === 0) return prefix === '' ? [] : [[prefix, '']];
    return entries.flatMap(([key, child]) =>
      toFormPairs(child, prefix === '' ? key : `${prefix}[${key}]`),
    );
  }
  return [[prefix, value === null ? '' : String(value)]];
}

// ---------------------------------------------------------------------------------------------
// Requests

const oddContentTypes = [
  'text/plain',
  'application/xml',
  'multipart/form-data; boundary=x',
  'application/json; charset=latin1',
  'application/x-www-form-urlencoded; charset=utf-16',
  'application/json, text/html',
  'APPLICATION/JSON',
  'application/vnd.api+json',
  'application/octet-stream',
  ';;;',
];

const oddPathIds = fc.oneof(
  fc.constantFrom(
    '%00',
    '%ED%A0%80',
    '%C0%AE%C0%AE',
    '..%2F..%2Fadmin',
    '%2e%2e',
    '%',
    '%ZZ',
    '%F0%9F%92%B3',
    '%20',
    'a%2Fb',
    '4242424242424242',
    '4242%204242%204242%204242',
    'pi_' + 'x'.repeat(995),
    'x'.repeat(1_200),
    '%27%3B%20DROP%20TABLE%20x',
    '__proto__',
    '-1',
    '1e400',
  ),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }).map(percent),
);

function authHeaders(operation: Operation, pools: Pools): fc.Arbitrary<Record<string, string>> {
  const right =
    operation.security === 'admin'
      ? pools.adminKey
      : operation.security === 'merchant'
        ? pools.merchantKey
        : undefined;
  const good: Record<string, string> =
    right === undefined ? {} : { authorization: `Bearer ${right}` };
  return fc.oneof(
    { weight: 12, arbitrary: fc.constant(good) },
    {
      weight: 1,
      arbitrary: fc.constantFrom<Record<string, string>>(
        {},
        { authorization: 'Bearer ' },
        { authorization: 'Bearer sk_test_000000000000000000000000' },
        { authorization: `Bearer ${pools.otherMerchantKey}` },
        { authorization: `Bearer ${pools.adminKey}` },
        { authorization: `Bearer ${pools.merchantKey}` },
        { authorization: `Basic ${Buffer.from(`${pools.merchantKey}:`).toString('base64')}` },
        { authorization: `Bearer ${'k'.repeat(5_000)}` },
        { authorization: 'Bearer sk_test_\u00e9' },
        { authorization: 'bearer   ' },
      ),
    },
  );
}

function pathFor(operation: Operation, pools: Pools): fc.Arbitrary<string> {
  const segments = operation.pathParams.map(({ name, schema }) =>
    fc
      .oneof(
        { weight: 6, arbitrary: fc.constantFrom(...pools.ids) },
        { weight: 2, arbitrary: wellShaped(schema, 0).map((value) => percent(asText(value))) },
        { weight: 2, arbitrary: oddPathIds },
      )
      .map((value) => [name, value] as const),
  );
  return fc.tuple(...segments).map((values) => {
    let path = operation.path;
    for (const [name, value] of values) path = path.replace(`{${name}}`, value);
    return path;
  });
}

const hostileQueryText = fc.oneof(
  fc.constantFrom(
    '1e400',
    'Infinity',
    '-Infinity',
    'NaN',
    '-1',
    '0',
    '1.5',
    '',
    '%00',
    '%ED%A0%80',
    '99999999999999999999',
    'true',
    'null',
    '[]',
  ),
  hostileString.map(percent),
);

function queryFor(operation: Operation, pools: Pools): fc.Arbitrary<string> {
  const parameters = operation.query.map(({ name, schema, required }) =>
    fc.oneof(
      { weight: required ? 1 : 3, arbitrary: fc.constant<string[]>([]) },
      {
        weight: 3,
        arbitrary: wellShaped(schema, 0).map((value) => [`${name}=${percent(asText(value))}`]),
      },
      {
        weight: 2,
        arbitrary: fc.constantFrom(...pools.ids).map((id) => [`${name}=${percent(id)}`]),
      },
      { weight: 2, arbitrary: hostileQueryText.map((text) => [`${name}=${text}`]) },
      // Repeated, array and object spellings of one parameter.
      { weight: 1, arbitrary: fc.constant([`${name}=1`, `${name}=2`]) },
      { weight: 1, arbitrary: fc.constantFrom([`${name}[]=1`], [`${name}[a]=1`], [name]) },
    ),
  );
  const unknown = fc.oneof(
    { weight: 8, arbitrary: fc.constant<string[]>([]) },
    { weight: 1, arbitrary: hostileString.map((text) => [`${percent(text)}=1`]) },
    { weight: 1, arbitrary: fc.constant(['a'.repeat(3_000) + '=1', '&&&', '=']) },
  );
  return fc.tuple(fc.tuple(...parameters), unknown).map(([known, extra]) => {
    const parts = [...known.flat(), ...extra];
    return parts.length === 0 ? '' : `?${parts.join('&')}`;
  });
}

type Encoded = { headers: Record<string, string>; body: string | undefined };

function bodyFor(operation: Operation): fc.Arbitrary<Encoded> {
  const hasBody = operation.method === 'POST' || operation.method === 'PUT';
  if (!hasBody)
    return fc.oneof(
      { weight: 9, arbitrary: fc.constant<Encoded>({ headers: {}, body: undefined }) },
      {
        weight: 1,
        arbitrary: fc.constant<Encoded>({
          headers: { 'content-type': 'application/json' },
          body: '{"a":1}',
        }),
      },
    );
  const value = fc.oneof(
    { weight: 8, arbitrary: valueFor(operation.body, 0) },
    { weight: 1, arbitrary: hostileValue },
  );
  const json = value.map<Encoded>((body) => ({
    headers: { 'content-type': 'application/json' },
    body: toJsonText(body),
  }));
  const form = fc.tuple(value, fc.boolean()).map<Encoded>(([body, repeat]) => {
    const pairs = toFormPairs(isPlainObject(body) || Array.isArray(body) ? body : { value: body });
    // A field given twice: Stripe's SDKs never do, a hand-made request may.
    if (repeat && pairs[0] !== undefined) pairs.push(pairs[0]);
    return {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: pairs.map(([key, text]) => `${percent(key)}=${percent(text)}`).join('&'),
    };
  });
  const odd = fc.tuple(fc.constantFrom(...oddContentTypes), value).map<Encoded>(([type, body]) => ({
    headers: { 'content-type': type },
    body: toJsonText(body),
  }));
  const raw = fc.constantFrom<Encoded>(
    { headers: {}, body: undefined },
    { headers: { 'content-type': 'application/json' }, body: '' },
    { headers: { 'content-type': 'application/json' }, body: '{"a":' },
    { headers: { 'content-type': 'application/json' }, body: 'null' },
    { headers: { 'content-type': 'application/json' }, body: '"text"' },
    { headers: { 'content-type': 'application/json' }, body: '{"__proto__":{"x":1}}' },
    { headers: { 'content-type': 'application/json' }, body: '{"constructor":{"prototype":{}}}' },
    { headers: { 'content-type': 'application/json' }, body: '\ufeff{}' },
    { headers: { 'content-type': 'application/json' }, body: `{"pad":"${'x'.repeat(300_000)}"}` },
    { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=%E0%A4%A&b' },
    {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `${'a[b]'.repeat(1)}=1&a=2`,
    },
    {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: Array.from({ length: 1_500 }, (_, index) => `k${index}=1`).join('&'),
    },
  );
  return fc.oneof(
    { weight: 8, arbitrary: json },
    { weight: 3, arbitrary: form },
    { weight: 1, arbitrary: odd },
    { weight: 1, arbitrary: raw },
  );
}

const idempotencyKey = fc.oneof(
  { weight: 6, arbitrary: fc.constant<Record<string, string>>({}) },
  { weight: 2, arbitrary: fc.uuid().map((key) => ({ 'idempotency-key': key })) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      { 'idempotency-key': 'fixed-key' },
      { 'idempotency-key': 'k'.repeat(300) },
      { 'idempotency-key': '' },
      // Latin-1 bytes, as a header carries them.
      { 'idempotency-key': 'cl\u00e9-\u00ff\u0080' },
      { 'idempotency-key': '4242424242424242' },
    ),
  },
);

export function requestFor(operation: Operation, pools: Pools): fc.Arbitrary<GeneratedRequest> {
  return fc
    .record({
      path: pathFor(operation, pools),
      query: queryFor(operation, pools),
      auth: authHeaders(operation, pools),
      encoded: bodyFor(operation),
      idempotency: idempotencyKey,
      // Now and then a method the route does not have.
      method: fc.oneof(
        { weight: 30, arbitrary: fc.constant(operation.method) },
        {
          weight: 1,
          arbitrary: fc.constantFrom('PATCH', 'PUT', 'DELETE', 'OPTIONS', 'POST', 'GET'),
        },
      ),
    })
    .map(({ path, query, auth, encoded, idempotency, method }) => ({
      operation,
      method,
      url: `${path}${query}`,
      headers: { ...auth, ...encoded.headers, ...idempotency },
      body: encoded.body,
    }));
}

export function anyRequest(
  operations: readonly Operation[],
  pools: Pools,
): fc.Arbitrary<GeneratedRequest> {
  return fc.oneof(...operations.map((operation) => requestFor(operation, pools)));
}
