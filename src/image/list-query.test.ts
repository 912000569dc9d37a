import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openDatabase } from '../platform/db/connect.js';
import { migrateToLatest } from '../platform/db/migrate.js';
import { Fault } from '../platform/http/faults.js';
import { imageMigrations } from './store/migrations.js';
import type { ImageDB, ImageRow } from './store/schema.js';
import { parseListQuery, selectImages, splitFilterOp, splitInValues, type Caller } from './list-query.js';

const limits = { defaultLimit: 25, maxLimit: 1000 };
const q = (s: string) => parseListQuery(new URLSearchParams(s), limits);

function row(id: string, owner: string | null, visibility: string, extra: Partial<ImageRow> = {}): ImageRow {
  return {
    id, name: id, status: 'active', visibility, protected: 0, os_hidden: 0, checksum: null, os_hash_algo: null, os_hash_value: null,
    owner, size: 10, virtual_size: null, min_ram: 0, min_disk: 0, container_format: 'bare', disk_format: 'raw',
    created_at: `2024-01-01T00:00:0${id.slice(-1)}.000000Z`, updated_at: '2024-01-01T00:00:00.000000Z',
    location: null, stage_location: null, stage_info: null, ...extra,
  };
}

async function fixture() {
  const database = await openDatabase<ImageDB>('sqlite://:memory:');
  await migrateToLatest(database.db, 'image', imageMigrations);
  await database.db.insertInto('image').values([
    row('pub1', 'p1', 'public'),
    row('priv2', 'p1', 'private', { size: 500 }),
    row('shr3', 'p1', 'shared'),
    row('shr4', 'p1', 'shared'),
    row('com5', 'p1', 'community'),
    row('own6', 'p2', 'private', { os_hidden: 1 }),
    row('com7', 'p2', 'community', { name: null }),
  ]).execute();
  await database.db.insertInto('image_member').values([
    { image_id: 'shr3', member: 'p2', status: 'accepted', created_at: 't', updated_at: 't' },
    { image_id: 'shr4', member: 'p2', status: 'pending', created_at: 't', updated_at: 't' },
  ]).execute();
  await database.db.insertInto('image_tag').values([{ image_id: 'pub1', value: 'x' }, { image_id: 'pub1', value: 'y' }, { image_id: 'priv2', value: 'x' }]).execute();
  await database.db.insertInto('image_property').values([{ image_id: 'priv2', name: 'os_distro', value: 'debian' }]).execute();
  return database;
}

const ids = (rows: ImageRow[]) => rows.map((r) => r.id);
const p2: Caller = { projectId: 'p2', isAdmin: false };
const p1: Caller = { projectId: 'p1', isAdmin: false };
const admin: Caller = { projectId: 'adm', isAdmin: true };

test('default list: public, own (community only when own), accepted shares; hidden excluded', async () => {
  const database = await fixture();
  try {
    assert.deepEqual(ids(await selectImages(database.db, p2, q(''))), ['com7', 'shr3', 'pub1']);
    assert.deepEqual(ids(await selectImages(database.db, p1, q(''))), ['com5', 'shr4', 'shr3', 'priv2', 'pub1']);
    assert.deepEqual(ids(await selectImages(database.db, p2, q('member_status=pending'))), ['com7', 'shr4', 'pub1']);
    assert.deepEqual(ids(await selectImages(database.db, p2, q('member_status=all&visibility=shared'))), ['shr4', 'shr3']);
    assert.deepEqual(ids(await selectImages(database.db, p2, q('visibility=community'))), ['com7', 'com5']);
    assert.deepEqual(ids(await selectImages(database.db, p2, q('os_hidden=true'))), ['own6']);
    // An admin sees every project's images, but other projects' community images only when asked.
    assert.deepEqual(ids(await selectImages(database.db, admin, q(''))), ['shr4', 'shr3', 'priv2', 'pub1']);
    assert.deepEqual(ids(await selectImages(database.db, admin, q('visibility=all'))), ['com7', 'com5', 'shr4', 'shr3', 'priv2', 'pub1']);
  } finally { await database.close(); }
});

test('filters: tags (all must match), extra properties, operators, ranges, times', async () => {
  const database = await fixture();
  try {
    assert.deepEqual(ids(await selectImages(database.db, p1, q('tag=x'))), ['priv2', 'pub1']);
    assert.deepEqual(ids(await selectImages(database.db, p1, q('tag=x&tag=y'))), ['pub1']);
    assert.deepEqual(ids(await selectImages(database.db, p1, q('os_distro=debian'))), ['priv2']);
    assert.deepEqual(ids(await selectImages(database.db, p1, q('name=in:pub1,"shr3"'))), ['shr3', 'pub1']);
    assert.deepEqual(ids(await selectImages(database.db, p1, q('id=eq:shr4'))), ['shr4']);
    assert.deepEqual(ids(await selectImages(database.db, p1, q('size_min=100'))), ['priv2']);
    assert.deepEqual(ids(await selectImages(database.db, p1, q('size_max=100&visibility=public'))), ['pub1']);
    assert.deepEqual(ids(await selectImages(database.db, p1, q('created_at=lt:2024-01-01T00:00:03Z'))), ['priv2', 'pub1']);
    assert.deepEqual(ids(await selectImages(database.db, p1, q('owner=p2&visibility=community'))), ['com7']);
  } finally { await database.close(); }
});

test('sorting and marker paging walk every image once, nulls sorted as empty', async () => {
  const database = await fixture();
  try {
    const all = ids(await selectImages(database.db, admin, q('visibility=all&sort=name:asc')));
    assert.deepEqual(all, ['com7', 'com5', 'priv2', 'pub1', 'shr3', 'shr4'], 'hidden own6 is not listed');
    const seen: string[] = [];
    let marker: ImageRow | undefined;
    for (;;) {
      const page = await selectImages(database.db, admin, q('visibility=all&sort=name:asc&limit=3'), marker);
      seen.push(...ids(page));
      if (page.length < 3) break;
      marker = page[page.length - 1];
    }
    assert.deepEqual(seen, all);
    const bySize = ids(await selectImages(database.db, p1, q('sort_key=size&sort_key=name&sort_dir=desc&sort_dir=asc')));
    assert.deepEqual(bySize, ['priv2', 'com5', 'pub1', 'shr3', 'shr4']);
  } finally { await database.close(); }
});

test('bad list parameters are 400 faults with Glance messages', () => {
  const bad = (s: string, re: RegExp) => assert.throws(() => q(s), (e: unknown) => e instanceof Fault && e.status === 400 && re.test(e.message));
  bad('limit=-1', /must be positive/);
  bad('limit=x', /must be an integer/);
  bad('sort_key=owner', /Invalid sort key: owner/);
  bad('sort=name:up', /Invalid sort direction: up/);
  bad('sort=name&sort_key=id', /cannot be combined/);
  bad('sort_key=name&sort_key=id&sort_key=size&sort_dir=asc&sort_dir=desc', /does not match/);
  bad('visibility=everyone', /Invalid visibility value/);
  bad('member_status=maybe', /Invalid status/);
  bad('os_hidden=yes', /'os_hidden' filter/);
  bad('size_min=big', /non-numeric/);
  bad('created_at=gt:yesterday', /ISO 8601/);
  bad('created_at=after:2024-01-01T00:00:00Z', /unknown operator/);
  bad('name=like:x', /unknown operator 'like'/);
  bad('changes-since=2024-01-01', /no longer available/);
  assert.equal(q('limit=5000').limit, 1000);
  assert.equal(q('').limit, 25);
});

test('filter operators: ISO times are values, in: lists honour quotes', () => {
  assert.deepEqual(splitFilterOp('2024-01-01T10:00:00Z'), ['eq', '2024-01-01T10:00:00Z']);
  assert.deepEqual(splitFilterOp('gte:2024-01-01T10:00:00Z'), ['gte', '2024-01-01T10:00:00Z']);
  assert.deepEqual(splitFilterOp('plain'), ['eq', 'plain']);
  assert.deepEqual(splitInValues('a,"b,c",d'), ['a', 'b,c', 'd']);
});
