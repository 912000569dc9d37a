import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Fault } from '../platform/http/faults.js';
import {
  enforcePropertyQuota, enforceTagQuota, pyRepr, schemaViolation, validateCreate,
} from './properties.js';

/** Asserts `fn` throws a Fault with `status` and a message matching `message`. */
function fails(fn: () => unknown, status: number, message: RegExp | string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof Fault, `not a Fault: ${String(e)}`);
    assert.equal(e.status, status, e.message);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

const UUID = '0e7b0c7e-1f4b-4a4e-9a52-0d3c3e4b5a6f';

test('a valid create body splits into core attributes, extra properties and tags', () => {
  const r = validateCreate({
    id: UUID, name: 'cirros', disk_format: 'qcow2', container_format: 'bare', visibility: 'public',
    protected: true, os_hidden: false, min_ram: 64, min_disk: 1, owner: 'p1',
    tags: ['a', 'b', 'a'], hw_disk_bus: 'virtio', kernel_id: UUID, ramdisk_id: null,
  });
  assert.deepEqual(r.core, {
    id: UUID, name: 'cirros', disk_format: 'qcow2', container_format: 'bare', visibility: 'public',
    protected: true, os_hidden: false, min_ram: 64, min_disk: 1, owner: 'p1',
  });
  assert.deepEqual(r.extra, { hw_disk_bus: 'virtio', kernel_id: UUID });
  assert.deepEqual(r.tags, ['a', 'b']);
  assert.deepEqual(validateCreate({}), { core: {}, extra: {}, tags: [] });
  assert.deepEqual(validateCreate({ name: null, disk_format: null }).core, { name: null, disk_format: null });
});

test('schema violations are 400 with jsonschema-style reasons', () => {
  const schemaMsg = (reason: string): string => `Provided object does not match schema 'image': ${reason}`;
  fails(() => validateCreate({ disk_format: 'bogus' }), 400, /^Provided object does not match schema 'image': 'bogus' is not one of \[None, 'ami'/);
  fails(() => validateCreate({ container_format: 'xxx' }), 400, /'xxx' is not one of/);
  fails(() => validateCreate({ visibility: 'everyone' }), 400, /'everyone' is not one of \['community', 'public', 'private', 'shared'\]/);
  fails(() => validateCreate({ name: 'x'.repeat(256) }), 400, /is too long$/);
  assert.equal(validateCreate({ name: 'é'.repeat(255) }).core.name!.length, 255); // code points, not bytes
  fails(() => validateCreate({ name: 5 }), 400, schemaMsg("5 is not of type 'null', 'string'"));
  fails(() => validateCreate({ min_ram: '64' }), 400, schemaMsg("'64' is not of type 'integer'"));
  fails(() => validateCreate({ min_disk: 1.5 }), 400, schemaMsg("1.5 is not of type 'integer'"));
  fails(() => validateCreate({ min_ram: true }), 400, schemaMsg("True is not of type 'integer'"));
  fails(() => validateCreate({ protected: 'yes' }), 400, schemaMsg("'yes' is not of type 'boolean'"));
  fails(() => validateCreate({ os_hidden: null }), 400, schemaMsg("None is not of type 'boolean'"));
  fails(() => validateCreate({ id: 'not-a-uuid' }), 400, /'not-a-uuid' does not match '\^/);
  fails(() => validateCreate({ tags: 'a' }), 400, schemaMsg("'a' is not of type 'array'"));
  fails(() => validateCreate({ tags: ['ok', 7] }), 400, schemaMsg("7 is not of type 'string'"));
  fails(() => validateCreate({ tags: ['t'.repeat(256)] }), 400, /is too long$/);
  fails(() => validateCreate({ kernel_id: 'abc' }), 400, /'abc' does not match/);
  fails(() => validateCreate({ cinder_encryption_key_deletion_policy: 'never' }), 400, /'never' is not one of/);
});

test('extra properties must be strings with names of at most 255 characters', () => {
  fails(() => validateCreate({ my_prop: 1 }), 400, /1 is not of type 'string'$/);
  fails(() => validateCreate({ my_prop: null }), 400, /None is not of type 'string'$/);
  fails(() => validateCreate({ my_prop: { a: 1 } }), 400, /\{'a': 1\} is not of type 'string'$/);
  fails(() => validateCreate({ ['k'.repeat(256)]: 'v' }), 400, 'Custom property should not be greater than 255 characters.');
  assert.deepEqual(validateCreate({ ['k'.repeat(255)]: 'v' }).extra, { ['k'.repeat(255)]: 'v' });
  fails(() => validateCreate({ '': 'v' }), 400, /must not be empty/);
  const odd = validateCreate(JSON.parse('{"__proto__": "p", "constructor": "c"}'));
  assert.equal(Object.getOwnPropertyDescriptor(odd.extra, '__proto__')?.value, 'p');
  assert.equal(odd.extra.constructor, 'c');
});

test('read-only attributes are 403; id may be given', () => {
  for (const key of ['direct_url', 'self', 'file', 'schema', 'stores']) {
    fails(() => validateCreate({ [key]: 'x' }), 403, `Attribute '${key}' is read-only.`);
  }
  fails(() => validateCreate({ status: 'active' }), 403, "Attribute 'status' is read-only.");
  fails(() => validateCreate({ checksum: 'abc' }), 403, "Attribute 'checksum' is read-only.");
  fails(() => validateCreate({ size: 5 }), 403, "Attribute 'size' is read-only.");
  fails(() => validateCreate({ virtual_size: 5 }), 403, "Attribute 'virtual_size' is read-only.");
  fails(() => validateCreate({ created_at: 'x' }), 403, "Attribute 'created_at' is read-only.");
  fails(() => validateCreate({ updated_at: 'x' }), 403, "Attribute 'updated_at' is read-only.");
  fails(() => validateCreate({ os_hash_algo: 'sha512' }), 403, "Attribute 'os_hash_algo' is read-only.");
  fails(() => validateCreate({ os_hash_value: 'ab' }), 403, "Attribute 'os_hash_value' is read-only.");
  // Glance validates the schema first: an invalid read-only value is a 400
  fails(() => validateCreate({ status: 'bogus' }), 400, /'bogus' is not one of/);
  assert.equal(validateCreate({ id: UUID }).core.id, UUID);
});

test('reserved names and the os_glance namespace are 403', () => {
  for (const key of ['location', 'deleted', 'deleted_at', 'os_glance_foo', 'os_glance_import_task']) {
    fails(() => validateCreate({ name: 'x', [key]: 'v' }), 403, `Attribute '${key}' is reserved.`);
  }
  fails(() => validateCreate({ locations: [{ url: 'file:///x', metadata: {} }] }), 403, "Attribute 'locations' is reserved.");
  fails(() => validateCreate({ locations: [{ url: 'file:///x' }] }), 400, /'metadata' is a required property/);
  // Glance reserves the bare prefix, not just os_glance_…
  fails(() => validateCreate({ os_glancex: 'v' }), 403, "Attribute 'os_glancex' is reserved.");
  assert.deepEqual(validateCreate({ glance_x: 'v', x_os_glance: 'w' }).extra, { glance_x: 'v', x_os_glance: 'w' });
});

test('min_ram/min_disk: non-negative and within the integer column', () => {
  fails(() => validateCreate({ min_ram: -1 }), 400, "Invalid value '-1' for parameter 'min_ram': Cannot be a negative value");
  fails(() => validateCreate({ min_disk: -5 }), 400, "Invalid value '-5' for parameter 'min_disk': Cannot be a negative value");
  fails(() => validateCreate({ min_disk: 2 ** 31 }), 400, /Cannot be greater than 2147483647/);
  assert.equal(validateCreate({ min_disk: 2 ** 31 - 1 }).core.min_disk, 2 ** 31 - 1);
  assert.equal(validateCreate({ min_ram: 0 }).core.min_ram, 0);
});

test('bodies that are not objects are 400', () => {
  fails(() => validateCreate(undefined), 400, 'Body expected in request.');
  fails(() => validateCreate([]), 400, /JSON object/);
  fails(() => validateCreate('name'), 400, /JSON object/);
  fails(() => validateCreate(null), 400, /JSON object/);
});

test('owner: a non-admin may only name their own project', () => {
  fails(() => validateCreate({ owner: 'other' }, { isAdmin: false, projectId: 'mine' }), 403,
    "You are not permitted to create images owned by 'other'.");
  assert.equal(validateCreate({ owner: 'mine' }, { isAdmin: false, projectId: 'mine' }).core.owner, 'mine');
  assert.equal(validateCreate({ owner: 'other' }, { isAdmin: true, projectId: 'mine' }).core.owner, 'other');
  fails(() => validateCreate({ owner: 'o'.repeat(256) }), 400, /too long/);
});

test('quotas: 413 above the limit, os_glance_* not counted, negative = unlimited', () => {
  const extra = { a: '1', b: '2', os_glance_x: '3' };
  enforcePropertyQuota(extra, 2);
  fails(() => enforcePropertyQuota(extra, 1), 413,
    'The limit has been exceeded on the number of allowed image properties. Attempted: 2, Maximum: 1');
  enforcePropertyQuota(extra, -1);
  enforceTagQuota(['a', 'b'], 2);
  fails(() => enforceTagQuota(['a', 'b', 'c'], 2), 413,
    'The limit has been exceeded on the number of allowed image tags. Attempted: 3, Maximum: 2');
  enforceTagQuota(['a', 'b', 'c'], -1);
});

test('pyRepr and schemaViolation speak like Python jsonschema', () => {
  assert.equal(pyRepr("it's"), '"it\'s"');
  assert.equal(pyRepr('a\nb'), "'a\\nb'");
  assert.equal(pyRepr([null, true, 'x', 1]), "[None, True, 'x', 1]");
  assert.equal(schemaViolation({ type: 'object', additionalProperties: false, properties: { a: {} } }, { a: 1, b: 2 }),
    "Additional properties are not allowed ('b' was unexpected)");
  assert.equal(schemaViolation({ type: 'string', minLength: 3 }, 'ab'), "'ab' is too short");
  assert.equal(schemaViolation({ type: 'string', minLength: 3 }, 'abc'), null);
});
