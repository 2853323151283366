import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { buildAsyncApi, CLIENT_FRAMES, SERVER_FRAMES } from '../../src/contract/asyncapi.ts';
import { OUT_EVENT_EXAMPLES } from '../../src/contract/event-examples.ts';
import { allOperations, buildOpenApi } from '../../src/contract/openapi.ts';
import { OUT_EVENT_SCHEMAS, OutEventSchema } from '../../src/contract/out-event-schemas.ts';
import { ErrorBody, ErrorCodeSchema } from '../../src/contract/responses.ts';
import { ERROR_EXAMPLE } from '../../src/contract/examples.ts';
import { ErrorCode } from '../../src/errors.ts';
import { ROUTES } from '../../src/gateway/http/routes.ts';
import { ClientFrame } from '../../src/gateway/ws/protocol.ts';
import { OUT_SUBJECTS } from '../../src/subjects.ts';

type Json = Record<string, any>;

/** Every `$ref` in a document, with where it was found. */
function refsOf(node: unknown, at = '#', out: Array<[string, string]> = []): Array<[string, string]> {
  if (Array.isArray(node)) {
    for (const [i, n] of node.entries()) refsOf(n, `${at}/${i}`, out);
  } else if (node && typeof node === 'object')
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.push([v, at]);
      else refsOf(v, `${at}/${k}`, out);
    }
  return out;
}

/** Follows a local JSON pointer (`#/components/schemas/X`); undefined when it leads nowhere. */
function resolve(doc: unknown, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  let node: any = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !(key in node)) return undefined;
    node = node[key];
  }
  return node;
}

function assertRefsResolve(doc: Json): void {
  const refs = refsOf(doc);
  assert.ok(refs.length > 20, 'the document uses $refs');
  for (const [ref, at] of refs) assert.notEqual(resolve(doc, ref), undefined, `${ref} (at ${at}) resolves`);
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

describe('OpenAPI description', () => {
  const doc = buildOpenApi() as Json;

  it('is an OpenAPI 3.1 document: version, info, paths of operations with responses, components, and every $ref resolves', () => {
    assert.match(doc.openapi, /^3\.1\.\d+$/);
    assert.equal(typeof doc.info.title, 'string');
    assert.equal(typeof doc.info.version, 'string');
    assert.ok(Object.keys(doc.components.schemas).length > 10);
    const ids = new Set<string>();
    for (const [path, item] of Object.entries<Json>(doc.paths)) {
      assert.ok(path.startsWith('/'), path);
      const declared = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      for (const [method, op] of Object.entries<Json>(item)) {
        assert.ok(METHODS.includes(method), `${method} ${path}`);
        assert.ok(!ids.has(op.operationId), `operationId ${op.operationId} is unique`);
        ids.add(op.operationId);
        assert.ok(Object.keys(op.responses).length > 0, `${method} ${path} has responses`);
        for (const status of Object.keys(op.responses)) assert.match(status, /^[1-5]\d\d$/);
        const inPath = (op.parameters as Json[])
          .map((p) => (p.$ref ? resolve(doc, p.$ref) : p) as Json)
          .filter((p) => p.in === 'path')
          .map((p) => p.name)
          .sort();
        assert.deepEqual(inPath, declared, `${method} ${path} declares each path parameter`);
      }
    }
    assertRefsResolve(doc);
  });

  it('documents every route of the route table and every operation the server answers itself', () => {
    for (const op of allOperations()) assert.ok(doc.paths[op.path]?.[op.method.toLowerCase()], `${op.method} ${op.path} is documented`);
    const documented = Object.values<Json>(doc.paths).reduce((n, item) => n + Object.keys(item).length, 0);
    assert.equal(documented, allOperations().length, 'and nothing else');
  });

  it("writes the README's method-and-path table with the same path templates", () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const table = readme.slice(readme.indexOf('## HTTP API'), readme.indexOf('### Seat ids never change'));
    const rows = [...table.matchAll(/`(GET|POST|PATCH|DELETE) (\/[^`?\s]*)/g)].map((m) => [m[1], m[2]] as const);
    assert.ok(rows.length >= 15);
    for (const [method, path] of rows) assert.ok(doc.paths[path]?.[method.toLowerCase()], `README's ${method} ${path} is in the document`);
  });

  it('lists the stable error codes of src/errors.ts and answers errors in the one error shape', () => {
    assert.deepEqual([...ErrorCodeSchema.options].sort(), Object.values(ErrorCode).sort());
    const errorRef = '#/components/schemas/ErrorBody';
    for (const item of Object.values<Json>(doc.paths))
      for (const op of Object.values<Json>(item))
        for (const [status, r] of Object.entries<Json>(op.responses))
          if (Number(status) >= 400) assert.equal(r.content['application/json'].schema.$ref, errorRef, `${op.operationId} ${status}`);
    ErrorBody.parse(ERROR_EXAMPLE);
  });

  it('has a request and a response example for every operation, each valid against its schema', () => {
    for (const op of allOperations()) {
      const where = `${op.method} ${op.path}`;
      if (op.request) {
        assert.notEqual(op.example.request, undefined, `${where} has a request example`);
        op.request.parse(op.example.request);
      }
      if (op.query) {
        assert.ok(op.example.query, `${where} has a query example`);
        op.query.parse(op.example.query);
      }
      if (op.success.schema) {
        assert.notEqual(op.example.response, undefined, `${where} has a response example`);
        op.success.schema.parse(op.example.response);
      } else assert.equal(op.example.response, undefined, `${where} answers no body`);
    }
  });

  it('refuses a broken example: the example checks can fail', () => {
    const hold = ROUTES.find((r) => r.name === 'hold')!;
    assert.equal(hold.request!.safeParse({ seats: ['A-1'], count: 2 }).success, false);
    assert.equal(hold.success.schema!.safeParse({ ...(hold.example.response as Json), price: undefined }).success, false);
  });
});

describe('AsyncAPI description', () => {
  const doc = buildAsyncApi() as Json;

  it('is an AsyncAPI 3.0 document whose channels, operations and messages resolve', () => {
    assert.equal(doc.asyncapi, '3.0.0');
    for (const op of Object.values<Json>(doc.operations)) {
      assert.ok(['send', 'receive'].includes(op.action));
      const channel = resolve(doc, op.channel.$ref) as Json;
      assert.ok(channel, op.channel.$ref);
      for (const m of op.messages)
        assert.ok(m.$ref.startsWith(`${op.channel.$ref}/messages/`), `${m.$ref} is one of its channel's messages`);
    }
    assertRefsResolve(doc);
  });

  it('describes every WebSocket frame type both ways and every out-event subject', () => {
    const clientTypes = ClientFrame.options.map((o) => o.shape.type.value).sort();
    assert.deepEqual(Object.keys(CLIENT_FRAMES).sort(), clientTypes);
    assert.deepEqual(Object.keys(SERVER_FRAMES).sort(), ['delta', 'error', 'result', 'snapshot', 'subscribed']);
    const addresses = Object.values<Json>(doc.channels).map((c) => c.address);
    assert.ok(addresses.includes('/v1/ws'));
    for (const subject of Object.values(OUT_SUBJECTS)) assert.ok(addresses.includes(subject), subject);
  });

  it('has an example for every message, each valid against its schema', () => {
    for (const [type, m] of Object.entries({ ...CLIENT_FRAMES, ...SERVER_FRAMES })) {
      m.schema.parse(m.example);
      assert.equal((m.example as Json).type, type);
    }
    ClientFrame.parse(CLIENT_FRAMES.hold.example);
    for (const [type, e] of Object.entries(OUT_EVENT_SCHEMAS)) {
      const example = OUT_EVENT_EXAMPLES[type as keyof typeof OUT_EVENT_EXAMPLES];
      e.schema.parse(example);
      OutEventSchema.parse(example);
    }
    for (const m of Object.values<Json>(doc.components.messages)) assert.equal(m.examples.length, 1, m.name);
  });
});
