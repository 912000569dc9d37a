import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Fault } from '../platform/http/faults.js';
import { ACCEPT_PATCH, type PatchOp, applyPatch, decodePointer, parsePatch } from './patch.js';

const V21 = 'application/openstack-images-v2.1-json-patch';
const V20 = 'application/openstack-images-v2.0-json-patch';

function fails(fn: () => unknown, status: number, message: RegExp | string): Fault {
  let caught: Fault | undefined;
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof Fault, `not a Fault: ${String(e)}`);
    assert.equal(e.status, status, e.message);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    caught = e;
    return true;
  });
  return caught!;
}

/** A Glance image view, as CORE renders it. */
function image(over: Record<string, unknown> = {}): Record<string, unknown> & { status: string } {
  return {
    id: '0e7b0c7e-1f4b-4a4e-9a52-0d3c3e4b5a6f', name: 'img', status: 'queued', visibility: 'shared',
    protected: false, os_hidden: false, checksum: null, os_hash_algo: null, os_hash_value: null, owner: 'p1',
    size: null, virtual_size: null, min_ram: 0, min_disk: 0, container_format: 'bare', disk_format: 'raw',
    created_at: '2024-01-01T00:00:00Z', updated_at: '2024-01-01T00:00:00Z', tags: ['t1'],
    self: '/v2/images/x', file: '/v2/images/x/file', schema: '/v2/schemas/image', color: 'blue',
    ...over,
  };
}

const patch = (body: unknown, type = V21): PatchOp[] => parsePatch(body, type);

test('media types: v2.1 and v2.0 accepted (parameters ignored), anything else is 415 with Accept-Patch', () => {
  assert.equal(patch([{ op: 'replace', path: '/name', value: 'n' }])[0]!.draft, 10);
  assert.equal(patch([{ replace: '/name', value: 'n' }], V20)[0]!.draft, 4);
  assert.equal(parsePatch([], `${V21}; charset=UTF-8`).length, 0);
  const f = fails(() => parsePatch([], 'application/json'), 415, 'The request media type application/json is not supported by this server.');
  assert.deepEqual(f.headers, { 'Accept-Patch': ACCEPT_PATCH });
  assert.equal(ACCEPT_PATCH, `${V20}, ${V21}`);
  fails(() => parsePatch([], undefined), 415, /not supported/);
  fails(() => parsePatch([], 'application/json-patch+json'), 415, /not supported/);
  fails(() => parsePatch([], 'constructor'), 415, /not supported/);
});

test('body shape errors are 400', () => {
  fails(() => patch(undefined), 400, 'Body expected in request.');
  fails(() => patch({ op: 'add' }), 400, 'Request body must be a JSON array of operation objects.');
  fails(() => patch(['x']), 400, 'Operations must be JSON objects.');
  fails(() => patch([{ path: '/name', value: 'x' }]), 400,
    'Unable to find `op` in JSON Schema change. It must be one of the following: add, remove, replace.');
  fails(() => patch([{ op: 'move', path: '/name', from: '/x' }]), 400,
    'Invalid operation: `move`. It must be one of the following: add, remove, replace.');
  fails(() => patch([{ op: 'test', path: '/name', value: 'x' }]), 400, /Invalid operation: `test`/);
  fails(() => patch([{ op: 'add', value: 'x' }]), 400, "Unable to find 'path' in JSON Schema change");
  fails(() => patch([{ op: 'add', path: '/name' }]), 400, 'Operation "add" requires a member named "value".');
  fails(() => patch([{ op: 'add', path: 5, value: 'x' }]), 400, /not a string/);
  fails(() => patch([{ name: '/x' }], V20), 400,
    'Operation objects must contain exactly one member named "add", "remove", or "replace".');
  fails(() => patch([{ add: '/x', remove: '/y', value: 'v' }], V20), 400,
    'Operation objects must contain only one member named "add", "remove", or "replace".');
  fails(() => patch([{ replace: '/name' }], V20), 400, 'Operation "replace" requires a member named "value".');
  assert.deepEqual(patch([{ remove: '/color' }], V20), [{ op: 'remove', path: ['color'], draft: 4 }]);
});

test('JSON pointers: Glance validation, ~0/~1 escapes, trimmed tokens', () => {
  assert.deepEqual(decodePointer('/a~1b'), ['a/b']);
  assert.deepEqual(decodePointer('/a~0b'), ['a~b']);
  assert.deepEqual(decodePointer('/~01'), ['~1']);
  assert.deepEqual(decodePointer('/ name '), ['name']);
  assert.deepEqual(decodePointer('/locations/0'), ['locations', '0']);
  fails(() => decodePointer('name'), 400, 'Pointer `name` does not start with "/".');
  fails(() => decodePointer('/a//b'), 400, 'Pointer `/a//b` contains adjacent "/".');
  fails(() => decodePointer('/a/ /b'), 400, /contains adjacent/);
  fails(() => decodePointer('/a/'), 400, 'Pointer `/a/` end with "/".');
  fails(() => decodePointer('/a~2'), 400, 'Pointer `/a~2` contains "~" not part of a recognized escape sequence.');
  fails(() => decodePointer('/a~'), 400, /not part of a recognized escape sequence/);
  assert.deepEqual(patch([{ op: 'add', path: '/a~1b', value: 'v' }])[0]!.path, ['a/b']);
});

test('path depth: one token, except locations add/remove', () => {
  fails(() => patch([{ op: 'add', path: '/tags/0', value: 'x' }]), 400, "Invalid JSON pointer for this resource: '/tags/0'");
  fails(() => patch([{ op: 'replace', path: '/name/x', value: 'x' }]), 400, /Invalid JSON pointer/);
  fails(() => patch([{ op: 'add', path: '/locations', value: [] }]), 400, "Invalid JSON pointer for this resource: '/locations'");
  fails(() => patch([{ op: 'replace', path: '/locations/0', value: {} }]), 400, /Invalid JSON pointer/);
  assert.equal(patch([{ op: 'remove', path: '/locations/0' }])[0]!.path.length, 2);
  assert.equal(patch([{ op: 'add', path: '/locations/-', value: { url: 'file:///x', metadata: {} } }])[0]!.path[1], '-');
  fails(() => patch([{ op: 'add', path: '/locations/-', value: { url: 'file:///x' } }]), 400, /'metadata' is a required property/);
});

test('read-only and reserved attributes are 403, for remove too', () => {
  for (const key of ['id', 'status', 'checksum', 'size', 'virtual_size', 'created_at', 'updated_at', 'direct_url',
    'self', 'file', 'schema', 'os_hash_algo', 'os_hash_value', 'stores']) {
    fails(() => patch([{ op: 'replace', path: `/${key}`, value: 'x' }]), 403, `Attribute '${key}' is read-only.`);
    fails(() => patch([{ op: 'remove', path: `/${key}` }]), 403, `Attribute '${key}' is read-only.`);
  }
  for (const key of ['location', 'deleted', 'deleted_at', 'os_glance_foo']) {
    fails(() => patch([{ op: 'add', path: `/${key}`, value: 'x' }]), 403, `Attribute '${key}' is reserved.`);
  }
  // tempest test_update_image_reserved_property (v2.0 dialect)
  fails(() => patch([{ add: '/os_glance_foo', value: 'bar' }], V20), 403, "Attribute 'os_glance_foo' is reserved.");
});

test('values are checked against the image schema (400)', () => {
  fails(() => patch([{ op: 'replace', path: '/visibility', value: 'all' }]), 400, /'all' is not one of/);
  fails(() => patch([{ op: 'replace', path: '/disk_format', value: 'exe' }]), 400, /'exe' is not one of/);
  fails(() => patch([{ op: 'replace', path: '/min_ram', value: '1' }]), 400, /'1' is not of type 'integer'/);
  fails(() => patch([{ op: 'replace', path: '/protected', value: 'true' }]), 400, /is not of type 'boolean'/);
  fails(() => patch([{ op: 'replace', path: '/name', value: 'n'.repeat(256) }]), 400, /too long/);
  fails(() => patch([{ op: 'add', path: '/my_prop', value: 3 }]), 400, /3 is not of type 'string'/);
  fails(() => patch([{ op: 'add', path: '/my_prop', value: null }]), 400, /None is not of type 'string'/);
  fails(() => patch([{ op: 'replace', path: '/tags', value: ['a', 1] }]), 400, /1 is not of type 'string'/);
  fails(() => patch([{ op: 'add', path: '/kernel_id', value: 'k' }]), 400, /does not match/);
  fails(() => patch([{ op: 'add', path: `/${'k'.repeat(256)}`, value: 'v' }]), 400,
    'Custom property should not be greater than 255 characters.');
  fails(() => patch([{ op: 'add', path: '/', value: 'v' }]), 400, /must not be empty/);
  assert.equal(patch([{ op: 'replace', path: '/name', value: null }])[0]!.value, null);
});

test('v2.1: replace/add/remove of core attributes and extra properties', () => {
  const r = applyPatch(image(), patch([
    { op: 'replace', path: '/name', value: 'new' },
    { op: 'add', path: '/min_ram', value: 512 },
    { op: 'replace', path: '/visibility', value: 'private' },
    { op: 'add', path: '/color', value: 'red' }, // v2.1 add of an existing property replaces it
    { op: 'add', path: '/hw_disk_bus', value: 'virtio' },
    { op: 'replace', path: '/protected', value: true },
  ]));
  assert.deepEqual(r.core, { name: 'new', min_ram: 512, visibility: 'private', protected: true });
  assert.deepEqual(r.setExtra, { color: 'red', hw_disk_bus: 'virtio' });
  assert.deepEqual(r.extra, { color: 'red', hw_disk_bus: 'virtio' });
  assert.deepEqual(r.removedExtra, []);
  assert.equal(r.tags, null);
  assert.equal(r.addedNewProperties, true);
  assert.equal(r.propertyCount, 2);
  assert.equal(r.changed, true);

  const rm = applyPatch(image(), patch([{ op: 'remove', path: '/color' }]));
  assert.deepEqual(rm.removedExtra, ['color']);
  assert.deepEqual(rm.extra, {});
  assert.equal(rm.addedNewProperties, false);
  assert.equal(rm.propertyCount, 0);

  // unchanged values are not reported as changes
  const same = applyPatch(image(), patch([{ op: 'replace', path: '/name', value: 'img' }, { op: 'replace', path: '/color', value: 'blue' }]));
  assert.deepEqual(same.core, {});
  assert.deepEqual(same.setExtra, {});
  assert.equal(same.changed, false);
});

test('odd property names (__proto__, constructor) are ordinary extra properties', () => {
  const r = applyPatch(image(), patch([
    { op: 'add', path: '/__proto__', value: 'p' }, { op: 'add', path: '/constructor', value: 'c' },
  ]));
  assert.deepEqual(Object.keys(r.setExtra).sort(), ['__proto__', 'constructor']);
  assert.equal(Object.getOwnPropertyDescriptor(r.extra, '__proto__')?.value, 'p');
  assert.equal(r.propertyCount, 3);
  fails(() => applyPatch(image(), patch([{ op: 'replace', path: '/toString', value: 'x' }])), 409, 'Property toString does not exist.');
});

test('operations apply in order', () => {
  const r = applyPatch(image(), patch([
    { op: 'add', path: '/x', value: '1' },
    { op: 'replace', path: '/x', value: '2' },
    { op: 'remove', path: '/color' },
  ]));
  assert.deepEqual(r.extra, { x: '2' });
  assert.deepEqual(r.setExtra, { x: '2' });
  assert.deepEqual(r.removedExtra, ['color']);
  const net = applyPatch(image(), patch([{ op: 'add', path: '/y', value: '1' }, { op: 'remove', path: '/y' }]));
  assert.equal(net.changed, false);
  assert.equal(net.addedNewProperties, false);
  // a failing later operation fails the whole patch
  fails(() => applyPatch(image(), patch([{ op: 'add', path: '/z', value: '1' }, { op: 'remove', path: '/nope' }])), 409,
    'Property nope does not exist.');
});

test('409 for missing properties; v2.0 add of a present property is 409', () => {
  fails(() => applyPatch(image(), patch([{ op: 'replace', path: '/missing', value: 'v' }])), 409, 'Property missing does not exist.');
  fails(() => applyPatch(image(), patch([{ op: 'remove', path: '/missing' }])), 409, 'Property missing does not exist.');
  fails(() => applyPatch(image(), patch([{ op: 'replace', path: '/kernel_id', value: null }])), 409, 'Property kernel_id does not exist.');
  fails(() => applyPatch(image(), patch([{ add: '/color', value: 'red' }], V20)), 409, 'Property color already present.');
  fails(() => applyPatch(image(), patch([{ add: '/name', value: 'n' }], V20)), 409, 'Property name already present.');
  assert.deepEqual(applyPatch(image(), patch([{ add: '/new', value: 'v' }], V20)).setExtra, { new: 'v' });
  assert.deepEqual(applyPatch(image(), patch([{ replace: '/name', value: 'n2' }], V20)).core, { name: 'n2' });
});

test('core attributes may not be removed (403)', () => {
  for (const key of ['name', 'visibility', 'tags', 'min_ram', 'owner', 'disk_format']) {
    fails(() => applyPatch(image(), patch([{ op: 'remove', path: `/${key}` }])), 403, `Property ${key} may not be removed.`);
  }
});

test('domain rules: negative minimums 400, formats only while queued/importing, owner admin-only', () => {
  fails(() => applyPatch(image(), patch([{ op: 'replace', path: '/min_disk', value: -1 }])), 400,
    "Invalid value '-1' for parameter 'min_disk': Cannot be a negative value");
  fails(() => applyPatch(image({ status: 'active' }), patch([{ op: 'replace', path: '/disk_format', value: 'qcow2' }])), 403,
    'Attribute disk_format can be only replaced for a queued image.');
  fails(() => applyPatch(image({ status: 'active' }), patch([{ op: 'replace', path: '/container_format', value: 'ovf' }])), 403,
    'Attribute container_format can be only replaced for a queued image.');
  assert.deepEqual(applyPatch(image({ status: 'importing' }), patch([{ op: 'replace', path: '/disk_format', value: 'qcow2' }])).core,
    { disk_format: 'qcow2' });
  fails(() => applyPatch(image(), patch([{ op: 'replace', path: '/owner', value: 'p2' }])), 403, "Owner can't be updated by non admin.");
  fails(() => applyPatch(image(), patch([{ op: 'add', path: '/owner', value: 'p2' }]), { isAdmin: false }), 403, /non admin/);
  // tempest test_update_image_owner_param (admin, v2.0 dialect)
  assert.deepEqual(applyPatch(image(), patch([{ replace: '/owner', value: 'p2' }], V20), { isAdmin: true }).core, { owner: 'p2' });
});

test('tags: replaced as a whole, de-duplicated, order-insensitive change detection', () => {
  const r = applyPatch(image(), patch([{ op: 'replace', path: '/tags', value: ['a', 'b', 'a'] }]));
  assert.deepEqual(r.tags, ['a', 'b']);
  assert.equal(r.changed, true);
  assert.deepEqual(r.core, {});
  assert.equal(applyPatch(image({ tags: ['a', 'b'] }), patch([{ op: 'add', path: '/tags', value: ['b', 'a'] }])).tags, null);
  assert.deepEqual(applyPatch(image(), patch([{ op: 'replace', path: '/tags', value: [] }])).tags, []);
  assert.deepEqual(applyPatch(image(), patch([{ op: 'replace', path: '/tags', value: ['t2'] }])).tags, ['t2']);
});

test('locations are not exposed: every locations operation is 403', () => {
  const loc = { url: 'file:///x', metadata: {} };
  fails(() => applyPatch(image(), patch([{ op: 'replace', path: '/locations', value: [] }])), 403, 'Cannot set locations to empty list.');
  fails(() => applyPatch(image(), patch([{ op: 'replace', path: '/locations', value: [loc] }])), 403,
    "It's not allowed to update locations if locations are invisible.");
  fails(() => applyPatch(image(), patch([{ op: 'add', path: '/locations/-', value: loc }])), 403,
    "It's not allowed to add locations if locations are invisible.");
  fails(() => applyPatch(image({ status: 'active' }), patch([{ op: 'remove', path: '/locations/0' }])), 403,
    "It's not allowed to remove locations if locations are invisible.");
});

test('nullable custom properties: null means not set; hidden stored properties survive via opts.extra', () => {
  const k = '0e7b0c7e-1f4b-4a4e-9a52-0d3c3e4b5a6f';
  const withKernel = image({ kernel_id: k });
  const r = applyPatch(withKernel, patch([{ op: 'replace', path: '/kernel_id', value: null }]));
  assert.deepEqual(r.removedExtra, ['kernel_id']);
  const added = applyPatch(image(), patch([{ op: 'add', path: '/kernel_id', value: k }]));
  assert.deepEqual(added.setExtra, { kernel_id: k });

  const stored = { color: 'blue', os_glance_stage_host: 'http://h' };
  const h = applyPatch(image(), patch([{ op: 'add', path: '/a', value: 'b' }]), { extra: stored });
  assert.deepEqual(h.extra, { color: 'blue', os_glance_stage_host: 'http://h', a: 'b' });
  assert.equal(h.propertyCount, 2); // os_glance_* do not count against the quota
  assert.deepEqual(h.removedExtra, []);
});
