import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CONTAINER_FORMATS, DISK_FORMATS, imageSchema, imagesSchema, memberSchema, membersSchema, schemaByName,
} from './schemas.js';

type Props = Record<string, Record<string, unknown>>;
const props = (doc: Record<string, unknown>): Props => doc.properties as Props;

test('image schema: Glance names, types, enums, limits and read-only flags', () => {
  const doc = imageSchema();
  assert.equal(doc.name, 'image');
  assert.deepEqual(doc.additionalProperties, { type: 'string' });
  assert.deepEqual(doc.links, [
    { rel: 'self', href: '{self}' }, { rel: 'enclosure', href: '{file}' }, { rel: 'describedby', href: '{schema}' },
  ]);
  const p = props(doc);
  for (const name of ['id', 'name', 'status', 'visibility', 'protected', 'os_hidden', 'checksum', 'os_hash_algo',
    'os_hash_value', 'owner', 'size', 'virtual_size', 'container_format', 'disk_format', 'created_at', 'updated_at',
    'tags', 'direct_url', 'min_ram', 'min_disk', 'self', 'file', 'stores', 'schema', 'locations']) {
    assert.ok(p[name], `missing ${name}`);
    assert.equal(p[name]!.is_base, undefined, `${name} is a base property`);
  }
  assert.deepEqual(p.disk_format!.enum, [null, 'ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw', 'qcow2', 'vdi', 'iso', 'ploop']);
  assert.deepEqual(p.container_format!.enum, [null, 'ami', 'ari', 'aki', 'bare', 'ovf', 'ova', 'docker', 'compressed']);
  assert.deepEqual(p.disk_format!.type, ['null', 'string']);
  assert.deepEqual(p.visibility!.enum, ['community', 'public', 'private', 'shared']);
  assert.deepEqual(p.status!.enum, ['queued', 'saving', 'active', 'killed', 'deleted', 'uploading', 'importing',
    'pending_delete', 'deactivated']);
  assert.equal(p.name!.maxLength, 255);
  assert.equal(p.checksum!.maxLength, 32);
  assert.equal(p.os_hash_algo!.maxLength, 64);
  assert.equal(p.os_hash_value!.maxLength, 128);
  assert.deepEqual(p.size!.type, ['null', 'integer']);
  assert.equal(p.min_ram!.type, 'integer');
  assert.equal(p.protected!.type, 'boolean');
  assert.deepEqual(p.tags!.items, { type: 'string', maxLength: 255 });
  for (const ro of ['status', 'checksum', 'os_hash_algo', 'os_hash_value', 'size', 'virtual_size', 'created_at',
    'updated_at', 'direct_url', 'self', 'file', 'stores', 'schema']) assert.equal(p[ro]!.readOnly, true, ro);
  for (const rw of ['id', 'name', 'visibility', 'protected', 'os_hidden', 'owner', 'min_ram', 'min_disk', 'disk_format',
    'container_format', 'tags', 'locations']) assert.equal(p[rw]!.readOnly, undefined, rw);
  assert.deepEqual((p.locations!.items as Record<string, unknown>).required, ['url', 'metadata']);
  // Glance's stock custom properties
  assert.equal(p.kernel_id!.is_base, false);
  assert.match('0e7b0c7e-1f4b-4a4e-9a52-0d3c3e4b5a6f', new RegExp(p.kernel_id!.pattern as string));
  assert.deepEqual(p.cinder_encryption_key_deletion_policy!.enum, ['on_image_deletion', 'do_not_delete']);
  assert.equal(DISK_FORMATS.length, 11);
  assert.equal(CONTAINER_FORMATS.length, 8);
});

test('image schema documents are fresh copies (mutating one does not leak)', () => {
  const a = imageSchema();
  props(a).name!.maxLength = 1;
  assert.equal(props(imageSchema()).name!.maxLength, 255);
});

test('images collection schema wraps the image schema with paging links', () => {
  const doc = imagesSchema();
  assert.equal(doc.name, 'images');
  const p = props(doc);
  assert.equal(p.images!.type, 'array');
  assert.deepEqual(p.images!.items, imageSchema());
  assert.deepEqual(p.first, { type: 'string' });
  assert.deepEqual(p.next, { type: 'string' });
  assert.deepEqual(p.schema, { type: 'string' });
  assert.deepEqual(doc.links, [
    { rel: 'first', href: '{first}' }, { rel: 'next', href: '{next}' }, { rel: 'describedby', href: '{schema}' },
  ]);
});

test('member schemas: minimal form, status enum, collection with describedby link only', () => {
  const m = memberSchema();
  assert.deepEqual(Object.keys(m).sort(), ['name', 'properties']);
  assert.equal(m.name, 'member');
  const p = props(m);
  assert.deepEqual(Object.keys(p).sort(), ['created_at', 'image_id', 'member_id', 'schema', 'status', 'updated_at']);
  assert.deepEqual(p.status!.enum, ['pending', 'accepted', 'rejected']);
  assert.equal(p.schema!.readOnly, true);
  const c = membersSchema();
  assert.equal(c.name, 'members');
  assert.deepEqual(props(c).members, { type: 'array', items: memberSchema() });
  assert.deepEqual(props(c).schema, { type: 'string' });
  assert.deepEqual(c.links, [{ rel: 'describedby', href: '{schema}' }]);
});

test('schemaByName serves the four documents and nothing else', () => {
  assert.deepEqual(schemaByName('image'), imageSchema());
  assert.deepEqual(schemaByName('images'), imagesSchema());
  assert.deepEqual(schemaByName('member'), memberSchema());
  assert.deepEqual(schemaByName('members'), membersSchema());
  assert.equal(schemaByName('constructor'), null);
  assert.equal(schemaByName('nope'), null);
});
