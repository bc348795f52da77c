// The field-shape comparison of the compatibility suite: a JSON object Payrail returned, held
// against the installed `stripe` SDK's own TypeScript definitions for that object (read with the
// TypeScript compiler API, so unions, nullables, nested namespaces, literal unions and expandable
// `string | Stripe.X | null` fields resolve as the SDK's users see them).
//
// Every field is compared by name and JSON type (string, number, boolean, null, object, array),
// literal unions by membership, nested objects and array elements recursively up to a depth bound.
// What Stripe has and Payrail does not return, and what Payrail returns and Stripe does not, is
// listed in one place (unsupported.ts); a listed field that is in fact returned fails the
// comparison, so the list of unsupported fields only shrinks.
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import {
  extensions,
  sdkPaths,
  stripeObjects,
  unsupported,
  type StripeObjectName,
} from './unsupported.ts';

/** Per object type: field path (relative to that object, `[]` for array elements) → short reason. */
export type FieldList = Readonly<Record<string, Readonly<Record<string, string>>>>;

export type ShapeLists = {
  /** Stripe's fields Payrail does not return (or returns differently: reason `mismatch: …`). */
  readonly unsupported: FieldList;
  /** Payrail's fields Stripe does not have. */
  readonly extensions: FieldList;
};

/** Nesting bound of the walk (Stripe expands 4 levels; each object nests a few more). */
export const maxShapeDepth = 16;
/** Bound on the number of JSON values one comparison visits. */
const maxShapeNodes = 50_000;

/** A mismatch entry in unsupported.ts: the field is returned, but not in Stripe's shape yet. */
const mismatchPrefix = 'mismatch:';

/** The envelopes of objects: `<Name>__list` and `<Name>__search` in a type source. */
export type EnvelopeKind = 'list' | 'search';
const envelopeKinds: readonly EnvelopeKind[] = ['list', 'search'];

/** A Program over some declarations and the named object types they define. */
export type TypeSource = {
  readonly checker: ts.TypeChecker;
  /** Object type name → its type, e.g. 'PaymentIntent' → Stripe.PaymentIntent. */
  readonly objects: ReadonlyMap<string, ts.Type>;
  /**
   * Envelopes by `<Name>__list` (Stripe.ApiList<Stripe.Name>) and `<Name>__search`
   * (Stripe.ApiSearchResult<Stripe.Name>).
   */
  readonly envelopes: ReadonlyMap<string, ts.Type>;
  /** The reverse of `objects`: where a nested object starts its own field lists. */
  readonly names: ReadonlyMap<ts.Type, string>;
  /** How long building the Program and resolving the names took. */
  readonly loadMs: number;
};

const compilerOptions: ts.CompilerOptions = {
  strict: true, // `| null` survives only under strictNullChecks
  noEmit: true,
  skipLibCheck: true,
  lib: ['lib.es2022.d.ts'],
  types: [],
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
};

/**
 * Builds a Program whose root is one in-memory module (`rootText`, at `rootPath`) that names
 * each object type as `export type <Name> = …` and its envelopes as `<Name>__list`, `<Name>__search`.
 * Everything else the root imports is read from disk.
 */
export function loadTypeSource(rootPath: string, rootText: string, names: readonly string[]) {
  const started = performance.now();
  const host = ts.createCompilerHost(compilerOptions);
  // The SDK's d.ts files are mostly doc comments; not parsing them saves a third of the time.
  host.jsDocParsingMode = ts.JSDocParsingMode.ParseNone;
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (file) => (file === rootPath ? rootText : readFile(file));
  host.fileExists = (file) => file === rootPath || fileExists(file);
  host.getSourceFile = (file, language, onError, create) =>
    file === rootPath
      ? ts.createSourceFile(file, rootText, language)
      : getSourceFile(file, language, onError, create);
  const program = ts.createProgram({ rootNames: [rootPath], options: compilerOptions, host });
  const checker = program.getTypeChecker();
  const root = program.getSourceFile(rootPath);
  assert.ok(root, `no source file ${rootPath}`);
  const module = checker.getSymbolAtLocation(root);
  assert.ok(module, `${rootPath} is not a module`);
  const exported = new Map(checker.getExportsOfModule(module).map((s) => [s.getName(), s]));
  const resolve = (name: string): ts.Type => {
    const symbol = exported.get(name);
    assert.ok(symbol, `the type source does not define ${name}`);
    const type = checker.getDeclaredTypeOfSymbol(symbol);
    assert.ok(!(type.flags & ts.TypeFlags.Any), `${name} did not resolve (it is any)`);
    return type;
  };
  const objects = new Map(names.map((name) => [name, resolve(name)] as const));
  const envelopes = new Map(
    names
      .flatMap((name) => envelopeKinds.map((kind) => `${name}__${kind}`))
      .filter((alias) => exported.has(alias))
      .map((alias) => [alias, resolve(alias)] as const),
  );
  const reverse = new Map([...objects].map(([name, type]) => [type, name] as const));
  const loadMs = performance.now() - started;
  return { checker, objects, envelopes, names: reverse, loadMs } satisfies TypeSource;
}

/** Where the installed SDK's ES module and its declarations are (`esm/stripe.esm.node.js`). */
const stripeDirectory = path.dirname(fileURLToPath(import.meta.resolve('stripe')));

let stripeSource: TypeSource | undefined;

/** The installed SDK's types, loaded once per test process. */
export function stripeTypes(): TypeSource {
  if (stripeSource !== undefined) return stripeSource;
  const rootPath = path.join(stripeDirectory, '__payrail_shapes__.ts');
  const rootText = [
    "import type Stripe from './stripe.esm.node.js';",
    ...stripeObjects.flatMap((name) => {
      const path = sdkPaths[name] ?? name;
      return [
        `export type ${name} = Stripe.${path};`,
        `export type ${name}__list = Stripe.ApiList<Stripe.${path}>;`,
        `export type ${name}__search = Stripe.ApiSearchResult<Stripe.${path}>;`,
      ];
    }),
  ].join('\n');
  stripeSource = loadTypeSource(rootPath, rootText, stripeObjects);
  return stripeSource;
}

// ---------------------------------------------------------------------------------------------
// The SDK's types, reduced to the JSON kinds they admit.

type Alternatives = {
  any: boolean;
  string: boolean; // any string
  stringLiterals: Set<string>;
  number: boolean; // any number
  numberLiterals: Set<number>;
  boolean: boolean; // any boolean
  booleanLiterals: Set<boolean>;
  null: boolean;
  arrays: ts.Type[]; // element types
  objects: ts.Type[];
};

/** A type, or several a value may have (the element types of `A[] | B[]`). */
type Types = ts.Type | readonly ts.Type[];

function alternativesOf(checker: ts.TypeChecker, type: Types): Alternatives {
  const result: Alternatives = {
    any: false,
    string: false,
    stringLiterals: new Set(),
    number: false,
    numberLiterals: new Set(),
    boolean: false,
    booleanLiterals: new Set(),
    null: false,
    arrays: [],
    objects: [],
  };
  const parts = (Array.isArray(type) ? type : [type]).flatMap((one: ts.Type) =>
    one.isUnion() ? one.types : [one],
  );
  for (const part of parts) addAlternative(checker, part, result);
  return result;
}

function addAlternative(checker: ts.TypeChecker, part: ts.Type, into: Alternatives): void {
  const flags = part.flags;
  if (flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) into.any = true;
  else if (flags & (ts.TypeFlags.Undefined | ts.TypeFlags.Void | ts.TypeFlags.Never)) return;
  else if (flags & ts.TypeFlags.Null) into.null = true;
  else if (part.isStringLiteral()) into.stringLiterals.add(part.value);
  else if (flags & (ts.TypeFlags.String | ts.TypeFlags.TemplateLiteral)) into.string = true;
  else if (part.isNumberLiteral()) into.numberLiterals.add(part.value);
  else if (flags & (ts.TypeFlags.Number | ts.TypeFlags.BigInt)) into.number = true;
  else if (flags & ts.TypeFlags.BooleanLiteral) into.booleanLiterals.add(isTrueType(part));
  else if (flags & ts.TypeFlags.Boolean) into.boolean = true;
  else if (part.isIntersection()) {
    // Stripe's OtherString (`string & Record<never, never>`) marks a literal union as open to
    // values a later API version adds. Payrail answers one version, so its values must be among
    // the literals this SDK lists: OtherString is deliberately not counted as "any string".
    if (!part.types.some((t) => t.flags & ts.TypeFlags.String)) into.objects.push(part);
  } else if (checker.isArrayType(part) || checker.isTupleType(part)) {
    into.arrays.push(checker.getTypeArguments(part as ts.TypeReference)[0] ?? part);
  } else if (isDecimal(part))
    into.string = true; // Stripe's decimals travel as strings
  else if (flags & (ts.TypeFlags.Object | ts.TypeFlags.NonPrimitive)) into.objects.push(part);
  else throw new Error(`unhandled type flags ${flags} in ${checker.typeToString(part)}`);
}

function isTrueType(type: ts.Type): boolean {
  return (type as { intrinsicName?: string }).intrinsicName === 'true';
}

function isDecimal(type: ts.Type): boolean {
  const name = type.getSymbol()?.getName();
  return name === 'Decimal' || name === 'DecimalImpl';
}

function describe(alternatives: Alternatives): string {
  const kinds: string[] = [];
  if (alternatives.string) kinds.push('string');
  if (alternatives.stringLiterals.size > 0) kinds.push(literalList(alternatives.stringLiterals));
  if (alternatives.number || alternatives.numberLiterals.size > 0) kinds.push('number');
  if (alternatives.boolean || alternatives.booleanLiterals.size > 0) kinds.push('boolean');
  if (alternatives.arrays.length > 0) kinds.push('array');
  if (alternatives.objects.length > 0) kinds.push('object');
  if (alternatives.null) kinds.push('null');
  return kinds.join(' | ') || 'nothing';
}

function literalList(values: ReadonlySet<unknown>): string {
  const shown = [...values].slice(0, 8).map((v) => JSON.stringify(v));
  return `one of ${shown.join(', ')}${values.size > 8 ? ', …' : ''}`;
}

function jsonKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** Every list entry a comparison in this process met (`Name.path`), to find stale entries. */
const consulted = new Set<string>();

/** The object types compared in this process (at the top or nested). */
const comparedNames = new Set<string>();

/**
 * The entries of `lists`, for the object types compared in this process, that no comparison
 * has met: a stale path (a typo, a field under one Payrail no longer returns) or an object state
 * the suite never reaches.
 */
export function unmetEntries(lists: ShapeLists): string[] {
  return [lists.unsupported, lists.extensions].flatMap((list) =>
    [...comparedNames].flatMap((name) =>
      Object.keys(list[name] ?? {})
        .map((path) => `${name}.${path}`)
        .filter((entry) => !consulted.has(entry)),
    ),
  );
}

// ---------------------------------------------------------------------------------------------
// The walk: an explicit work list (no recursion over the value), bounded in depth and size.

type Context = {
  /** The object type whose lists apply, e.g. 'PaymentIntent'. */
  readonly name: string;
  /** The path from the top of the compared value to that object, for messages. */
  readonly at: string;
};

type Work = {
  readonly value: unknown;
  readonly type: Types;
  readonly context: Context;
  /** Path relative to the context's object ('' for the object itself). */
  readonly path: string;
  readonly depth: number;
};

type Walk = {
  readonly source: TypeSource;
  readonly lists: ShapeLists;
  readonly problems: string[];
  readonly queue: Work[];
  visited: number;
};

const join = (base: string, key: string) => (base === '' ? key : `${base}.${key}`);

function where(work: Pick<Work, 'context' | 'path'>): string {
  const relative = work.path === '' ? work.context.name : `${work.context.name}.${work.path}`;
  return work.context.at === '' ? relative : `${relative} (at ${join(work.context.at, work.path)})`;
}

/**
 * Compares `value` with the SDK's type `name` (or, with `envelope`, a list or search result of
 * it) and returns every difference, each naming the field and what to do about it. Empty means
 * equal.
 */
export function compareShape(
  source: TypeSource,
  lists: ShapeLists,
  value: unknown,
  name: string,
  options: { envelope?: EnvelopeKind } = {},
): string[] {
  const { envelope } = options;
  const type = envelope ? source.envelopes.get(`${name}__${envelope}`) : source.objects.get(name);
  const label = envelope ? `${envelope} of ${name}` : name;
  assert.ok(type, `no ${label} in the type source`);
  return walkFrom(source, lists, {
    value,
    type,
    context: { name: label, at: '' },
    path: '',
    depth: 0,
  });
}

function walkFrom(source: TypeSource, lists: ShapeLists, start: Work): string[] {
  const walk: Walk = { source, lists, problems: [], queue: [start], visited: 0 };
  while (walk.queue.length > 0) {
    const work = walk.queue.pop()!;
    walk.visited += 1;
    if (walk.visited > maxShapeNodes) {
      walk.problems.push(`${where(work)}: more than ${maxShapeNodes} values, comparison stopped`);
      break;
    }
    if (work.depth > maxShapeDepth) {
      walk.problems.push(`${where(work)}: nested deeper than ${maxShapeDepth}, not compared`);
      continue;
    }
    visit(walk, work);
  }
  return [...new Set(walk.problems)]; // the same difference in every item of a list, once
}

function visit(walk: Walk, work: Work): void {
  const { checker } = walk.source;
  const alternatives = alternativesOf(checker, work.type);
  if (alternatives.any) return;
  const value = work.value;
  const problem = (text: string): void => {
    walk.problems.push(`${where(work)}: ${text}`);
  };
  const mismatch = () =>
    problem(`Payrail returns ${describeValue(value)}, Stripe's type is ${describe(alternatives)}`);
  switch (jsonKind(value)) {
    case 'null':
      if (!alternatives.null) mismatch();
      return;
    case 'string':
      return visitLiteral(
        alternatives.string,
        alternatives.stringLiterals,
        value,
        problem,
        mismatch,
      );
    case 'number':
      return visitLiteral(
        alternatives.number,
        alternatives.numberLiterals,
        value,
        problem,
        mismatch,
      );
    case 'boolean':
      return visitLiteral(
        alternatives.boolean,
        alternatives.booleanLiterals,
        value,
        problem,
        mismatch,
      );
    case 'array':
      if (alternatives.arrays.length === 0) return mismatch();
      return visitArray(walk, work, value as unknown[], alternatives.arrays);
    case 'object':
      if (alternatives.objects.length === 0) return mismatch();
      return visitObject(walk, work, value as Record<string, unknown>, alternatives.objects);
    default:
      return mismatch();
  }
}

function visitLiteral<T>(
  any: boolean,
  literals: ReadonlySet<T>,
  value: unknown,
  problem: (text: string) => void,
  mismatch: () => void,
): void {
  if (any) return;
  if (literals.size === 0) return mismatch();
  if (!literals.has(value as T)) {
    problem(`${JSON.stringify(value)} is not among Stripe's values (${literalList(literals)})`);
  }
}

function describeValue(value: unknown): string {
  const kind = jsonKind(value);
  if (kind === 'string' || kind === 'number' || kind === 'boolean') {
    return `${kind} ${JSON.stringify(value)}`;
  }
  return kind;
}

function visitArray(walk: Walk, work: Work, value: readonly unknown[], elements: ts.Type[]) {
  const element = elements.length === 1 ? elements[0]! : elements;
  const path = `${work.path}[]`;
  for (const item of value) {
    walk.queue.push({ ...work, value: item, type: element, path, depth: work.depth + 1 });
  }
}

function visitObject(
  walk: Walk,
  work: Work,
  value: Record<string, unknown>,
  candidates: ts.Type[],
): void {
  const type = chooseObjectType(walk, work, value, candidates);
  if (type === undefined) return;
  const { checker } = walk.source;
  // A nested object that is itself one of the compared Stripe objects (an expanded field, the
  // object of an event, the items of a list) is compared under its own lists.
  const whole = Array.isArray(work.type) ? undefined : (work.type as ts.Type);
  const own = (whole && walk.source.names.get(whole)) ?? walk.source.names.get(type);
  const at = (path: string) => join(work.context.at, path);
  const context = own !== undefined ? { name: own, at: at(work.path) } : work.context;
  comparedNames.add(context.name);
  const base = own !== undefined ? '' : work.path;
  const index = checker.getIndexInfosOfType(type)[0];
  const properties = checker.getPropertiesOfType(type);
  if (index !== undefined && properties.length === 0) {
    // A map such as metadata: every value has the index signature's type.
    for (const [key, item] of Object.entries(value)) {
      const path = join(base, key);
      walk.queue.push({ value: item, type: index.type, context, path, depth: work.depth + 1 });
    }
    return;
  }
  if (properties.length === 0) return; // an open `{}` (Stripe's Event.Data.Object)
  const declared = new Map(properties.map((p) => [p.getName(), p]));
  for (const [key, property] of declared) {
    const path = join(base, key);
    const listed = walk.lists.unsupported[context.name]?.[path];
    if (listed !== undefined) consulted.add(`${context.name}.${path}`);
    const present = Object.hasOwn(value, key);
    const child = { context, path };
    if (listed !== undefined) {
      if (present) checkListedField(walk, work, value[key], property, child, listed);
      continue;
    }
    if (!present) {
      if (!(property.flags & ts.SymbolFlags.Optional)) {
        walk.problems.push(
          `${where(child)}: Stripe has it, Payrail does not return it ` +
            `(list it in test/stripe-compat/unsupported.ts with the reason)`,
        );
      }
      continue;
    }
    const propertyType = checker.getTypeOfSymbol(property);
    walk.queue.push({ ...child, value: value[key], type: propertyType, depth: work.depth + 1 });
  }
  for (const key of Object.keys(value)) {
    if (declared.has(key)) continue;
    const path = join(base, key);
    if (walk.lists.extensions[context.name]?.[path] !== undefined) {
      consulted.add(`${context.name}.${path}`);
      continue;
    }
    walk.problems.push(
      `${where({ context, path })}: Payrail returns it, Stripe does not have it ` +
        `(list it as an extension in test/stripe-compat/unsupported.ts, or rename it)`,
    );
  }
}

/** A field listed as unsupported yet returned: fine only while it is still a listed mismatch. */
function checkListedField(
  walk: Walk,
  work: Work,
  value: unknown,
  property: ts.Symbol,
  child: Pick<Work, 'context' | 'path'>,
  reason: string,
): void {
  const file = 'test/stripe-compat/unsupported.ts';
  if (!reason.startsWith(mismatchPrefix)) {
    walk.problems.push(
      `${where(child)}: listed as unsupported in ${file} (${reason}) but Payrail returns it: ` +
        'remove it from the list',
    );
    return;
  }
  const type = walk.source.checker.getTypeOfSymbol(property);
  const start = { ...child, value, type, depth: work.depth + 1 };
  if (walkFrom(walk.source, walk.lists, start).length === 0) {
    walk.problems.push(
      `${where(child)}: listed in ${file} (${reason}) but now matches Stripe's type: ` +
        'remove it from the list',
    );
  }
}

/**
 * Of several object types a field admits (`Customer | DeletedCustomer`, the ~250 event types),
 * the one the value's literal fields (`object`, `type`, `deleted`) pick; with several left, the
 * one with the fewest differences.
 */
function chooseObjectType(
  walk: Walk,
  work: Work,
  value: Record<string, unknown>,
  candidates: ts.Type[],
): ts.Type | undefined {
  if (candidates.length === 1) return candidates[0];
  const { checker } = walk.source;
  const fitting = candidates.filter((candidate) => literalFieldsFit(checker, candidate, value));
  if (fitting.length === 1) return fitting[0];
  if (fitting.length === 0) {
    const tags = ['object', 'type', 'deleted']
      .filter((key) => key in value)
      .map((key) => `${key}=${JSON.stringify(value[key])}`);
    walk.problems.push(
      `${where(work)}: no Stripe type fits the object (${tags.join(', ') || 'no tag fields'})`,
    );
    return undefined;
  }
  let best = fitting[0]!;
  let fewest = Number.POSITIVE_INFINITY;
  for (const candidate of fitting) {
    const count = walkFrom(walk.source, walk.lists, { ...work, type: candidate }).length;
    if (count < fewest) [best, fewest] = [candidate, count];
  }
  return best;
}

function literalFieldsFit(
  checker: ts.TypeChecker,
  type: ts.Type,
  value: Record<string, unknown>,
): boolean {
  for (const key of ['object', 'type', 'deleted']) {
    const property = checker.getPropertyOfType(type, key);
    if (property === undefined) {
      if (key === 'deleted' && value[key] === true) return false;
      continue;
    }
    const alternatives = alternativesOf(checker, checker.getTypeOfSymbol(property));
    const literals = [...alternatives.stringLiterals, ...alternatives.booleanLiterals];
    const open = alternatives.string || alternatives.boolean || alternatives.any;
    if (open || literals.length === 0) continue;
    if (!Object.hasOwn(value, key)) continue;
    if (!(literals as unknown[]).includes(value[key])) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// The lists themselves, checked against the SDK without any value.

/**
 * Every unsupported path must name a field the SDK has; every extension path must name one it
 * does not have (else it is not an extension), under a parent it has.
 */
export function checkLists(source: TypeSource, lists: ShapeLists): string[] {
  const problems: string[] = [];
  for (const [name, fields] of Object.entries(lists.unsupported)) {
    const root = source.objects.get(name);
    if (root === undefined) {
      problems.push(`unsupported.${name}: no such object type in the type source`);
      continue;
    }
    for (const field of Object.keys(fields)) {
      if (resolvePath(source.checker, root, field) === undefined) {
        problems.push(`unsupported.${name}: Stripe's ${name} has no field ${field}`);
      }
    }
  }
  for (const [name, fields] of Object.entries(lists.extensions)) {
    const root = source.objects.get(name);
    if (root === undefined) {
      problems.push(`extensions.${name}: no such object type in the type source`);
      continue;
    }
    for (const field of Object.keys(fields)) {
      if (resolvePath(source.checker, root, field) !== undefined) {
        problems.push(`extensions.${name}: ${field} is a Stripe field, not an extension`);
        continue;
      }
      const parent = field.includes('.') ? field.slice(0, field.lastIndexOf('.')) : '';
      if (parent !== '' && resolvePath(source.checker, root, parent) === undefined) {
        problems.push(`extensions.${name}: ${field} sits under ${parent}, which Stripe lacks`);
      }
    }
  }
  return problems;
}

/** The type at a dotted path (`a.b[].c`) through unions, nullables and arrays; or undefined. */
export function resolvePath(
  checker: ts.TypeChecker,
  root: ts.Type,
  field: string,
): ts.Type[] | undefined {
  let types: ts.Type[] = [root];
  for (const segment of field.split('.')) {
    const key = segment.replace(/(\[\])+$/, '');
    const arrays = (segment.length - key.length) / 2;
    const next: ts.Type[] = [];
    for (const type of types) {
      for (const object of alternativesOf(checker, type).objects) {
        const property = checker.getPropertyOfType(object, key);
        if (property !== undefined) next.push(checker.getTypeOfSymbol(property));
      }
    }
    types = next;
    for (let level = 0; level < arrays; level += 1) {
      types = types.flatMap((type) => alternativesOf(checker, type).arrays);
    }
    if (types.length === 0) return undefined;
  }
  return types;
}

// ---------------------------------------------------------------------------------------------
// What the rest of the suite calls.

const projectLists: ShapeLists = { unsupported, extensions };

function report(problems: readonly string[], what: string): void {
  if (problems.length === 0) return;
  assert.fail(
    `${what} differs from the stripe SDK's type (${problems.length}):\n  ${problems.join('\n  ')}`,
  );
}

/** Fails unless `value` has the SDK's shape for `name`, up to what unsupported.ts lists. */
export function assertStripeShape(value: unknown, name: StripeObjectName): void {
  report(compareShape(stripeTypes(), projectLists, value, name), name);
}

/** The same for a list envelope (`{object: 'list', data, has_more, url}`) of `name`. */
export function assertStripeList(value: unknown, name: StripeObjectName): void {
  const problems = compareShape(stripeTypes(), projectLists, value, name, { envelope: 'list' });
  report(problems, `list of ${name}`);
}

/** The same for a search result (`{object: 'search_result', data, has_more, next_page, url}`). */
export function assertStripeSearchResult(value: unknown, name: StripeObjectName): void {
  const problems = compareShape(stripeTypes(), projectLists, value, name, { envelope: 'search' });
  report(problems, `search result of ${name}`);
}
