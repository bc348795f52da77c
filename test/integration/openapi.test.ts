// The OpenAPI document (/openapi.json, issue 13 item 6): OpenAPI 3.1, every request body listed
// as JSON and as form encoding (what Stripe's SDKs send), and a `webhooks` section with one entry
// per event type of the catalogue whose payload is the Event of that type with its data.object.
// Validity, honestly bounded: the document's required fields, every $ref resolving, and every
// schema in it compiling as JSON Schema 2020-12 (OpenAPI 3.1's dialect) with Ajv, and the
// payload schemas accepting what Payrail really sends. (The OpenAPI meta-schema itself is not
// vendored here.)
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { eventCatalogue } from '../../src/api-objects/event-payloads.ts';
import { eventTypes } from '../../src/api-objects/event-types.ts';
import { requestBodyContentTypes } from '../../src/http/app.ts';
import { call, startTestServer, type TestServer } from '../support/server.ts';
import { pageRoutes, registeredRoutes } from '../fuzz/fuzz.ts';

type Json = Record<string, unknown>;
type Operation = {
  operationId?: string;
  requestBody?: { content?: Record<string, { schema?: Json }> };
  responses?: Record<string, Json>;
  parameters?: { name: string; in: string; schema?: Json }[];
};
type Document = {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  webhooks: Record<string, { post?: Operation }>;
  components: { schemas?: Record<string, Json>; securitySchemes?: Json };
};

const methods = ['get', 'put', 'post', 'delete', 'patch'] as const;

/** Every object in the document, depth first, with an explicit stack (no recursion). */
function everyObject(root: unknown): Json[] {
  const found: Json[] = [];
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (Array.isArray(value)) stack.push(...(value as unknown[]));
    else if (typeof value === 'object' && value !== null) {
      found.push(value as Json);
      stack.push(...Object.values(value));
    }
  }
  return found;
}

describe('the OpenAPI document', () => {
  let server: TestServer;
  let document: Document;

  before(async () => {
    server = await startTestServer('pglite');
    const answer = await call(server, 'GET', '/openapi.json');
    assert.equal(answer.status, 200);
    document = answer.body as unknown as Document;
  });
  after(() => server.stop());

  const operations = () =>
    Object.entries(document.paths).flatMap(([path, item]) =>
      methods.flatMap((method) =>
        item[method] === undefined ? [] : [{ path, method, operation: item[method] }],
      ),
    );

  test('is OpenAPI 3.1 with its required fields, and every $ref resolves', () => {
    assert.match(document.openapi, /^3\.1\.\d+$/);
    assert.equal(typeof document.info.title, 'string');
    assert.equal(typeof document.info.version, 'string');
    for (const { path, method, operation } of operations()) {
      assert.ok(operation.responses !== undefined, `${method} ${path}: responses`);
      for (const parameter of (operation.parameters ?? []).filter((p) => p.in === 'path'))
        assert.ok(path.includes(`{${parameter.name}}`), `${method} ${path}: ${parameter.name}`);
    }
    const ids = operations().flatMap(({ operation }) => operation.operationId ?? []);
    assert.equal(new Set(ids).size, ids.length, 'operationIds are unique');
    for (const object of everyObject(document)) {
      const ref = object.$ref;
      if (typeof ref !== 'string') continue;
      const match = /^#\/components\/schemas\/(.+)$/.exec(ref);
      assert.ok(match !== null, `a $ref outside components: ${ref}`);
      assert.ok(document.components.schemas?.[match[1] ?? ''] !== undefined, `unresolved ${ref}`);
    }
  });

  test('every schema in it compiles as JSON Schema 2020-12', () => {
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    // Components first, under the ids their $refs use.
    ajv.addSchema({ $id: 'doc', components: document.components }, 'doc');
    const rewrite = (schema: unknown) =>
      JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"doc#/components/')) as Json;
    const schemas: [string, Json][] = [];
    for (const { path, method, operation } of operations()) {
      for (const [type, media] of Object.entries(operation.requestBody?.content ?? {}))
        if (media.schema !== undefined) schemas.push([`${method} ${path} ${type}`, media.schema]);
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        const content = (response.content ?? {}) as Record<string, { schema?: Json }>;
        for (const media of Object.values(content))
          if (media.schema !== undefined)
            schemas.push([`${method} ${path} ${status}`, media.schema]);
      }
      for (const parameter of operation.parameters ?? [])
        if (parameter.schema !== undefined)
          schemas.push([`${method} ${path} ${parameter.name}`, parameter.schema]);
    }
    for (const [type, item] of Object.entries(document.webhooks)) {
      const schema = item.post?.requestBody?.content?.['application/json']?.schema;
      if (schema !== undefined) schemas.push([`webhook ${type}`, schema]);
    }
    assert.ok(schemas.length > 100, `only ${schemas.length} schemas`);
    const compiled = new Set<string>();
    for (const [where, schema] of schemas) {
      const text = JSON.stringify(schema);
      if (compiled.has(text)) continue;
      compiled.add(text);
      assert.doesNotThrow(() => ajv.compile(rewrite(schema)), where);
    }
  });

  test('every request body is JSON or form encoded, on every route that takes a body', () => {
    const withBody = operations().filter(({ operation }) => operation.requestBody !== undefined);
    assert.ok(withBody.length >= 30, `only ${withBody.length} routes document a body`);
    for (const { path, method, operation } of withBody)
      assert.deepEqual(
        Object.keys(operation.requestBody?.content ?? {}).sort(),
        [...requestBodyContentTypes].sort(),
        `${method} ${path}`,
      );
    // Every route the server registered is documented (the fuzz test's rule), so no body escapes.
    const documented = new Set(
      operations().map(({ path, method }) => `${method.toUpperCase()} ${path}`),
    );
    const missing = registeredRoutes(server.app).filter(
      (route) =>
        !documented.has(route) &&
        !/ \/(docs|openapi\.json|metrics)(\/|$)/.test(route) &&
        !pageRoutes.some((pattern) => pattern.test(route.split(' ')[1] ?? '')),
    );
    assert.deepEqual(missing, []);
  });

  test('a webhooks entry per event type: the Event of that type with its data.object', async () => {
    assert.deepEqual(Object.keys(document.webhooks).sort(), [...eventTypes].sort());
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    for (const type of eventTypes) {
      const post = document.webhooks[type]?.post;
      assert.ok(post !== undefined, type);
      assert.ok(post.responses !== undefined, type);
      const schema = post.requestBody?.content?.['application/json']?.schema as
        { properties: { type: Json; data: { properties: { object: Json } } } } | undefined;
      assert.ok(schema !== undefined, type);
      assert.equal(schema.properties.type.const, type);
      assert.deepEqual(
        schema.properties.data.properties.object,
        JSON.parse(JSON.stringify(eventCatalogue[type].object)),
        type,
      );
      const validate = ajv.compile(schema);
      // Another type's name is refused: the entry is that type's payload only.
      const other = eventTypes.find((candidate) => candidate !== type) ?? type;
      assert.equal(validate({ type: other }), false);
    }
  });
});
