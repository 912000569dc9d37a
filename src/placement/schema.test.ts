import { test } from 'node:test';
import assert from 'node:assert/strict';
import { check, isUuidLike, normalizeUuid, violation, type Schema } from './schema.js';

test('uuid-likeness follows oslo: dashed or not, any case, braces and urn prefix', () => {
  for (const ok of ['8c3bbd0a-1f63-4d1e-9aeb-40e1d2ab7df4', '8C3BBD0A1F634D1E9AEB40E1D2AB7DF4', '{8c3bbd0a-1f63-4d1e-9aeb-40e1d2ab7df4}', 'urn:uuid:8c3bbd0a-1f63-4d1e-9aeb-40e1d2ab7df4']) assert.ok(isUuidLike(ok), ok);
  for (const bad of ['', 'x', '8c3bbd0a-1f63-4d1e-9aeb-40e1d2ab7df', '8c3bbd0a-1f63-4d1e-9aeb-40e1d2ab7dfz', 12]) assert.ok(!isUuidLike(bad), String(bad));
  assert.equal(normalizeUuid('8C3BBD0A1F634D1E9AEB40E1D2AB7DF4'), '8c3bbd0a-1f63-4d1e-9aeb-40e1d2ab7df4');
});

test('schema checks name the failing keyword and where, as jsonschema does', () => {
  const s: Schema = {
    type: 'object', required: ['total'], additionalProperties: false,
    properties: { total: { type: 'integer', minimum: 1, maximum: 10 }, name: { type: 'string', maxLength: 3 }, kind: { type: 'string', enum: ['none', 'isolate'] } },
  };
  assert.equal(check({ total: 5 }, s), undefined);
  assert.match(check({}, s)!, /'total' is a required property\n\nFailed validating 'required' in schema$/);
  assert.match(check({ total: 0 }, s)!, /0 is less than the minimum of 1[\s\S]*Failed validating 'minimum' in schema\['properties'\]\['total'\]/);
  assert.match(check({ total: 1.5 }, s)!, /1\.5 is not of type 'integer'/);
  assert.match(check({ total: 1, name: 'long' }, s)!, /'long' is too long/);
  assert.match(check({ total: 1, kind: 'bogus' }, s)!, /'bogus' is not one of \['none', 'isolate'\]/);
  assert.match(check({ total: 1, extra: true }, s)!, /Additional properties are not allowed \('extra' was unexpected\)/);
  const pp: Schema = { type: 'object', additionalProperties: false, patternProperties: { '^[A-Z]+$': { type: 'integer' } } };
  assert.match(check({ vcpu: 1 }, pp)!, /'vcpu' does not match any of the regexes: '\^\[A-Z\]\+\$'/);
  assert.equal(violation({ VCPU: 'x' }, pp)?.keyword, 'type');
  assert.match(check([1, 1], { type: 'array', uniqueItems: true })!, /has non-unique elements/);
  assert.equal(check(null, { anyOf: [{ type: 'string', format: 'uuid' }, { type: 'null' }] }), undefined);
  assert.match(check('nope', { anyOf: [{ type: 'string', format: 'uuid' }, { type: 'null' }] })!, /is not valid under any of the given schemas/);
  // Own properties only: a "__proto__" key is just an unexpected property.
  assert.match(check(JSON.parse('{"total":1,"__proto__":{"x":1}}'), s)!, /'__proto__' was unexpected/);
});
