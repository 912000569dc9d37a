import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isValidName, name, pyRepr, queryLists, validateBody, validateQuery, type Schema } from './schema.js';
import { Fault } from '../../platform/http/faults.js';

const message = (fn: () => void): string => {
  try { fn(); } catch (e) { assert.ok(e instanceof Fault && e.status === 400); return e.message; }
  assert.fail('expected a 400');
};

test('python reprs read like jsonschema\'s', () => {
  assert.equal(pyRepr("it's"), `"it's"`);
  assert.equal(pyRepr({ a: [1, true, null] }), "{'a': [1, True, None]}");
});

test('Nova names: printable, no leading/trailing whitespace, BMP only', () => {
  for (const ok of ['a', 'web server 1', 'ünïcode', 'x.y-z_1']) assert.ok(isValidName(ok), ok);
  for (const bad of [' a', 'a ', '\u0000', 'a\nb', 'emoji\u{1F600}', '\u00a0a']) assert.ok(!isValidName(bad), JSON.stringify(bad));
  assert.match(message(() => validateBody({ type: 'object', properties: { n: name } }, { n: ' x' })), /^An invalid 'name' value was provided/);
});

test('body failures name the field and value; top-level failures are the bare message', () => {
  const s: Schema = {
    type: 'object',
    properties: { thing: { type: 'object', properties: { size: { type: ['integer', 'string'], pattern: '^[0-9]+$', minimum: 1, maximum: 10 } }, required: ['size'], additionalProperties: false } },
    required: ['thing'], additionalProperties: false,
  };
  assert.equal(message(() => validateBody(s, { thing: { size: '11' } })), "Invalid input for field/attribute size. Value: 11. '11' is greater than the maximum of 10");
  assert.equal(message(() => validateBody(s, { thing: { size: 'x' } })), "Invalid input for field/attribute size. Value: x. 'x' does not match '^[0-9]+$'");
  assert.equal(message(() => validateBody(s, { thing: {} })), "Invalid input for field/attribute thing. Value: {}. 'size' is a required property");
  assert.equal(message(() => validateBody(s, {})), "'thing' is a required property");
  assert.equal(message(() => validateBody(s, { thing: { size: 1 }, x: 1 })), "Additional properties are not allowed ('x' was unexpected)");
  assert.equal(message(() => validateBody(s, [])), "[] is not of type 'object'");
  validateBody(s, { thing: { size: '10' } });
  validateBody(s, { thing: { size: 3 } });
});

test('query failures name the parameter; lists of strings as webob gives them', () => {
  const s: Schema = { type: 'object', properties: { limit: { type: 'array', items: { type: 'string', pattern: '^[0-9]+$' } } }, additionalProperties: false };
  assert.deepEqual(queryLists({ a: 'x', b: ['1', '2'] }), { a: ['x'], b: ['1', '2'] });
  assert.match(message(() => validateQuery(s, queryLists({ limit: '-1' }))), /^Invalid input for query parameters limit\. Value: -1\./);
  assert.match(message(() => validateQuery(s, queryLists({ other: '1' }))), /Additional properties are not allowed/);
  validateQuery(s, queryLists({ limit: ['1', '2'] }));
});
