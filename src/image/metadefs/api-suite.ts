/**
 * The metadef API suite: a real Fastify server, a real database (any engine) and the real policy
 * engine with Glance's default rules. Only the identity step is left out: a test hook puts a
 * `RequestContext` on the request (who is calling is the header `x-test-caller`), because these
 * are tests of the routes; the end-to-end path with real tokens is tempest's run. `metadefs.test.ts`
 * runs it on SQLite; give it a PostgreSQL or MariaDB URL to check portability.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { createApiServer, routesOf } from '../../platform/http/server.js';
import { Fault, forbidden } from '../../platform/http/faults.js';
import { openDatabase, type Database } from '../../platform/db/connect.js';
import { authOf, policyCreds, type RequestContext } from '../../platform/auth/index.js';
import { Enforcer } from '../../platform/policy/index.js';
import { silentLogger } from '../../platform/log.js';
import { migrateMetadefs, registerMetadefRoutes, metadefPolicyDefaults, SEEDED_RESOURCE_TYPES } from './index.js';

const callers: Record<string, { projectId: string; roles: string[] }> = {
  admin: { projectId: 'p-admin', roles: ['admin', 'member', 'reader'] },
  alice: { projectId: 'p-alice', roles: ['member', 'reader'] },
  bob: { projectId: 'p-bob', roles: ['member', 'reader'] },
};

function contextOf(name: string, requestId: string): RequestContext {
  const c = callers[name];
  return {
    token: 't', userId: `u-${name}`, userName: name, userDomainId: 'default', userDomainName: 'Default',
    projectId: c.projectId, projectName: c.projectId, projectDomainId: 'default', projectDomainName: 'Default',
    roles: c.roles, roleIds: c.roles, isAdmin: c.roles.includes('admin'), isAdminProject: true,
    expiresAt: new Date(Date.now() + 3600_000), auditIds: [], methods: ['password'], requestId,
  };
}

/** Registers the suite; `openUrl` gives the database URL, `done` drops it afterwards. */
export function metadefApiSuite(name: string, openUrl: () => Promise<string>, done?: () => Promise<void>): void {
  describe(name, () => {
    let app: FastifyInstance;
    let database: Database;

    before(async () => {
      database = await openDatabase(await openUrl());
      assert.deepEqual(await migrateMetadefs(database), ['0001_initial']);
      assert.deepEqual(await migrateMetadefs(database), [], 'migrating again changes nothing');
      app = createApiServer({
        service: 'image', logger: silentLogger(), bodyLimit: 1 << 20,
        renderFault: (f: Fault) => ({ code: f.status, title: f.title, message: f.message }),
      });
      app.decorateRequest('auth', undefined);
      app.addHook('onRequest', async (req) => {
        const who = req.headers['x-test-caller'];
        if (typeof who === 'string' && callers[who]) req.auth = contextOf(who, req.id);
      });
      const policy = new Enforcer(metadefPolicyDefaults);
      const enforce = (rule: string, target: Record<string, unknown>, req: FastifyRequest): void => {
        if (!policy.enforce(rule, target, policyCreds(authOf(req)))) throw forbidden(`Policy doesn't allow ${rule} to be performed.`);
      };
      registerMetadefRoutes(app, { db: database.db, enforce, limitDefault: 3 });
      await app.ready();
    });

    after(async () => {
      await app.close();
      await database.close();
      await done?.();
    });

    async function call(who: string, method: string, url: string, body?: unknown, headers: Record<string, string> = {}) {
      const res = await app.inject({
        method: method as 'GET', url, headers: { 'x-test-caller': who, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
        payload: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined, headers: res.headers };
    }

    const NS = '/v2/metadefs/namespaces';

    test('resource types: Glance\'s seeded types, in its order', async () => {
      const r = await call('alice', 'GET', '/v2/metadefs/resource_types');
      assert.equal(r.status, 200);
      assert.deepEqual(r.body.resource_types.map((t: { name: string }) => t.name), SEEDED_RESOURCE_TYPES);
      assert.match(r.body.resource_types[0].created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    });

    test('namespace lifecycle as tempest drives it: protected cannot be deleted until unprotected', async () => {
      const created = await call('admin', 'POST', NS, {
        namespace: 'T::Life', visibility: 'public', description: 'Tempest', display_name: 'T::Life',
        resource_type_associations: [{ name: 'OS::Glance::Image' }], protected: true,
      });
      assert.equal(created.status, 201);
      assert.equal(created.headers.location, `${NS}/T::Life`);
      assert.equal(created.body.owner, 'p-admin');
      assert.equal(created.body.schema, '/v2/schemas/metadefs/namespace');
      assert.deepEqual(created.body.resource_type_associations.map((a: { name: string }) => a.name), ['OS::Glance::Image']);

      const list = await call('admin', 'GET', `${NS}?limit=1000`);
      assert.ok(list.body.namespaces.some((n: { namespace: string }) => n.namespace === 'T::Life'));
      const shown = await call('alice', 'GET', `${NS}/T::Life`);
      assert.equal(shown.status, 200);
      assert.equal(shown.body.visibility, 'public');

      const refused = await call('admin', 'DELETE', `${NS}/T::Life`);
      assert.equal(refused.status, 403);
      assert.match(refused.body.message, /protected/);

      const updated = await call('admin', 'PUT', `${NS}/T::Life`, {
        namespace: 'T::Life', description: 'Tempest', visibility: 'private', display_name: 'T::Life', protected: false,
      });
      assert.equal(updated.status, 200);
      assert.equal(updated.body.visibility, 'private');
      assert.equal(updated.body.protected, false);
      assert.equal((await call('admin', 'DELETE', `${NS}/T::Life`)).status, 204);
      assert.equal((await call('admin', 'GET', `${NS}/T::Life`)).status, 404);
    });

    test('visibility: private namespaces are hidden from other projects; writes need admin', async () => {
      assert.equal((await call('admin', 'POST', NS, { namespace: 'T::AliceOnly', owner: 'p-alice' })).status, 201);
      assert.equal((await call('alice', 'GET', `${NS}/T::AliceOnly`)).status, 200);
      assert.equal((await call('bob', 'GET', `${NS}/T::AliceOnly`)).status, 404);
      const bobList = await call('bob', 'GET', `${NS}?limit=1000`);
      assert.ok(!bobList.body.namespaces.some((n: { namespace: string }) => n.namespace === 'T::AliceOnly'));
      const aliceList = await call('alice', 'GET', `${NS}?limit=1000&visibility=private`);
      assert.deepEqual(aliceList.body.namespaces.map((n: { namespace: string }) => n.namespace), ['T::AliceOnly']);

      assert.equal((await call('alice', 'POST', NS, { namespace: 'T::ByAlice' })).status, 403);
      // A write on a namespace the caller cannot even see is a 404, not a 403.
      assert.equal((await call('bob', 'DELETE', `${NS}/T::AliceOnly`)).status, 404);
      assert.equal((await call('alice', 'DELETE', `${NS}/T::AliceOnly`)).status, 403);
      assert.equal((await call('nobody', 'GET', NS)).status, 401);
      assert.equal((await call('admin', 'DELETE', `${NS}/T::AliceOnly`)).status, 204);
    });

    test('request bodies: schema violations are 400, read-only attributes 403, duplicates 409, other methods 405', async () => {
      const bad = await call('admin', 'POST', NS, { namespace: 'T::Bad', visibility: 'shared' });
      assert.equal(bad.status, 400);
      assert.match(bad.body.message, /'shared' is not one of \['public', 'private'\]/);
      assert.equal((await call('admin', 'POST', NS, { namespace: 'x'.repeat(81) })).status, 400);
      assert.equal((await call('admin', 'POST', NS, { display_name: 'no name' })).status, 400);
      assert.equal((await call('admin', 'POST', NS, { namespace: 'T::Bad', surprise: 1 })).status, 400);
      assert.equal((await call('admin', 'POST', NS, { namespace: 'T::Bad', created_at: 'now' })).status, 403);
      assert.equal((await call('admin', 'POST', NS)).status, 400);
      assert.equal((await call('admin', 'POST', NS, ['T::Bad'])).status, 400);
      assert.equal((await call('admin', 'POST', NS, { namespace: 'T::Bad', tags: [{ name: 'y'.repeat(81) }] })).status, 400);
      // Two objects of one name: 409, and nothing of the namespace is left behind.
      const clash = await call('admin', 'POST', NS, { namespace: 'T::Bad', objects: [{ name: 'o' }, { name: 'o' }] });
      assert.equal(clash.status, 409);
      assert.equal((await call('admin', 'GET', `${NS}/T::Bad`)).status, 404);

      assert.equal((await call('admin', 'POST', NS, { namespace: 'T::Dup' })).status, 201);
      assert.equal((await call('admin', 'POST', NS, { namespace: 'T::Dup' })).status, 409);
      const notAllowed = await call('admin', 'PATCH', `${NS}/T::Dup`, {});
      assert.equal(notAllowed.status, 405);
      assert.equal(notAllowed.headers.allow, 'GET, PUT, DELETE');
      assert.equal((await call('admin', 'DELETE', `${NS}/T::Dup`)).status, 204);
    });

    test('objects: create, list, show, rename, protected, delete', async () => {
      await call('admin', 'POST', NS, { namespace: 'T::Objects', visibility: 'public' });
      const o = await call('admin', 'POST', `${NS}/T::Objects/objects`, {
        name: 'CPU Limits', description: 'limits', required: ['quota:cpu_period'],
        properties: { 'quota:cpu_period': { title: 'Period', type: 'integer', minimum: 1000 } },
      });
      assert.equal(o.status, 201);
      assert.equal(o.body.self, `${NS}/T::Objects/objects/CPU Limits`);
      assert.deepEqual(o.body.properties, { 'quota:cpu_period': { title: 'Period', type: 'integer', minimum: 1000 } });
      assert.equal((await call('admin', 'POST', `${NS}/T::Objects/objects`, { name: 'CPU Limits' })).status, 409);
      const badProp = await call('admin', 'POST', `${NS}/T::Objects/objects`, { name: 'x', properties: { p: { title: 'no type' } } });
      assert.equal(badProp.status, 400);

      const list = await call('alice', 'GET', `${NS}/T::Objects/objects`);
      assert.deepEqual(list.body.objects.map((x: { name: string }) => x.name), ['CPU Limits']);
      const shown = await call('alice', 'GET', `${NS}/T::Objects/objects/CPU%20Limits`);
      assert.equal(shown.body.description, 'limits');
      assert.deepEqual(shown.body.required, ['quota:cpu_period']);

      const renamed = await call('admin', 'PUT', `${NS}/T::Objects/objects/CPU%20Limits`, { name: 'CPU' });
      assert.equal(renamed.status, 200);
      assert.equal(renamed.body.name, 'CPU');
      assert.equal(renamed.body.description, undefined, 'a PUT replaces the object: absent attributes are cleared');
      assert.deepEqual(renamed.body.required, []);
      assert.equal((await call('alice', 'PUT', `${NS}/T::Objects/objects/CPU`, { name: 'CPU2' })).status, 403);

      await call('admin', 'PUT', `${NS}/T::Objects`, { namespace: 'T::Objects', visibility: 'public', protected: true });
      assert.equal((await call('admin', 'DELETE', `${NS}/T::Objects/objects/CPU`)).status, 403);
      assert.equal((await call('admin', 'DELETE', `${NS}/T::Objects/objects`)).status, 403);
      await call('admin', 'PUT', `${NS}/T::Objects`, { namespace: 'T::Objects', visibility: 'public' });
      assert.equal((await call('admin', 'DELETE', `${NS}/T::Objects/objects/CPU`)).status, 204);
      assert.equal((await call('admin', 'GET', `${NS}/T::Objects/objects/CPU`)).status, 404);
      assert.equal((await call('admin', 'DELETE', `${NS}/T::Objects`)).status, 204);
    });

    test('properties: named after a resource type as tempest does, prefixes applied on show', async () => {
      await call('admin', 'POST', NS, { namespace: 'T::Props', visibility: 'public' });
      const assoc = await call('admin', 'POST', `${NS}/T::Props/resource_types`, { name: 'OS::Glance::Image', prefix: 'hw_' });
      assert.equal(assoc.status, 201);
      assert.equal(assoc.body.prefix, 'hw_');
      const enumValues = ['xen', 'qemu', 'kvm'];
      const created = await call('admin', 'POST', `${NS}/T::Props/properties`, { name: 'OS::Glance::Image', title: 'T', type: 'string', enum: enumValues });
      assert.equal(created.status, 201);
      assert.deepEqual(created.body, { name: 'OS::Glance::Image', title: 'T', type: 'string', enum: enumValues });
      assert.equal((await call('admin', 'POST', `${NS}/T::Props/properties`, { name: 'OS::Glance::Image', title: 'T', type: 'string' })).status, 409);
      assert.equal((await call('admin', 'POST', `${NS}/T::Props/properties`, { name: 'p', title: 'T', type: 'text' })).status, 400);
      assert.equal((await call('admin', 'POST', `${NS}/T::Props/properties`, { name: 'p', title: 'T' })).status, 400);

      const shown = await call('alice', 'GET', `${NS}/T::Props/properties/OS::Glance::Image`);
      assert.equal(shown.body.name, 'OS::Glance::Image');
      await call('admin', 'POST', `${NS}/T::Props/properties`, { name: 'disk_bus', title: 'Disk bus', type: 'string' });
      const prefixed = await call('alice', 'GET', `${NS}/T::Props/properties/hw_disk_bus?resource_type=OS::Glance::Image`);
      assert.equal(prefixed.status, 200);
      assert.equal(prefixed.body.name, 'disk_bus');
      assert.equal((await call('alice', 'GET', `${NS}/T::Props/properties/disk_bus?resource_type=OS::Glance::Image`)).status, 404);
      const detail = await call('alice', 'GET', `${NS}/T::Props?resource_type=OS::Glance::Image`);
      assert.deepEqual(Object.keys(detail.body.properties).sort(), ['hw_OS::Glance::Image', 'hw_disk_bus']);
      const plain = await call('alice', 'GET', `${NS}/T::Props?resource_type=OS::Nova::Flavor`);
      assert.deepEqual(Object.keys(plain.body.properties).sort(), ['OS::Glance::Image', 'disk_bus']);

      const updated = await call('admin', 'PUT', `${NS}/T::Props/properties/OS::Glance::Image`, { name: 'OS::Glance::Image', title: 'U', type: 'string', enum: enumValues });
      assert.equal(updated.body.title, 'U');
      const list = await call('alice', 'GET', `${NS}/T::Props/properties`);
      assert.equal(list.body.properties['OS::Glance::Image'].title, 'U');
      assert.equal(list.body.properties['OS::Glance::Image'].name, undefined, 'in lists the name is the key');
      assert.equal((await call('admin', 'DELETE', `${NS}/T::Props/properties/OS::Glance::Image`)).status, 204);
      assert.ok(!('OS::Glance::Image' in (await call('alice', 'GET', `${NS}/T::Props/properties`)).body.properties));
      assert.equal((await call('admin', 'DELETE', `${NS}/T::Props/properties`)).status, 204);
      assert.deepEqual((await call('alice', 'GET', `${NS}/T::Props/properties`)).body.properties, {});
      assert.equal((await call('admin', 'DELETE', `${NS}/T::Props`)).status, 204);
    });

    test('tags: bulk replace or append, single create, case-insensitive names, rename, delete all', async () => {
      await call('admin', 'POST', NS, { namespace: 'T::Tags', visibility: 'public' });
      const tags = [{ name: 'sample-tag1' }, { name: 'sample-tag2' }, { name: 'sample-tag3' }];
      const bulk = await call('admin', 'POST', `${NS}/T::Tags/tags`, { tags });
      assert.equal(bulk.status, 201);
      assert.deepEqual(bulk.body, { tags });
      const names = async () => (await call('alice', 'GET', `${NS}/T::Tags/tags?sort_key=name&sort_dir=asc`)).body.tags.map((t: { name: string }) => t.name);
      assert.deepEqual(await names(), ['sample-tag1', 'sample-tag2', 'sample-tag3']);

      await call('admin', 'POST', `${NS}/T::Tags/tags`, { tags: [{ name: 'x' }] });
      assert.deepEqual(await names(), ['x'], 'without X-Openstack-Append the list replaces');
      await call('admin', 'POST', `${NS}/T::Tags/tags`, { tags: [{ name: 'y' }] }, { 'x-openstack-append': 'True' });
      assert.deepEqual(await names(), ['x', 'y']);
      assert.equal((await call('admin', 'POST', `${NS}/T::Tags/tags`, { tags: [{ name: 'X' }] }, { 'x-openstack-append': 'true' })).status, 409);
      assert.equal((await call('admin', 'POST', `${NS}/T::Tags/tags`, { tags: [{ name: 'a' }, { name: 'A' }] })).status, 409);
      assert.deepEqual(await names(), ['x', 'y'], 'a refused replacement leaves the old tags');

      const one = await call('admin', 'POST', `${NS}/T::Tags/tags/tag_name`);
      assert.equal(one.status, 201);
      assert.equal(one.body.name, 'tag_name');
      assert.equal((await call('admin', 'POST', `${NS}/T::Tags/tags/TAG_NAME`)).status, 409);
      assert.equal((await call('alice', 'GET', `${NS}/T::Tags/tags/tag_name`)).body.name, 'tag_name');
      const renamed = await call('admin', 'PUT', `${NS}/T::Tags/tags/tag_name`, { name: 'update-tag' });
      assert.equal(renamed.body.name, 'update-tag');
      assert.equal((await call('admin', 'PUT', `${NS}/T::Tags/tags/update-tag`, { name: 'Y' })).status, 409);
      assert.equal((await call('admin', 'DELETE', `${NS}/T::Tags/tags/update-tag`)).status, 204);
      assert.deepEqual(await names(), ['x', 'y']);

      const paged = await call('alice', 'GET', `${NS}/T::Tags/tags?sort_key=name&sort_dir=asc&limit=1&marker=x`);
      assert.deepEqual(paged.body.tags.map((t: { name: string }) => t.name), ['y']);
      assert.equal((await call('alice', 'GET', `${NS}/T::Tags/tags?marker=nope`)).status, 404);
      assert.equal((await call('admin', 'DELETE', `${NS}/T::Tags/tags`)).status, 204);
      assert.deepEqual(await names(), []);
      assert.equal((await call('admin', 'DELETE', `${NS}/T::Tags`)).status, 204);
    });

    test('resource type associations: a new name creates the type; deleting a namespace removes its associations', async () => {
      await call('admin', 'POST', NS, { namespace: 'T::Assoc', visibility: 'public' });
      const made = await call('admin', 'POST', `${NS}/T::Assoc/resource_types`, { name: 'OS::Trove::Instance', properties_target: 'image' });
      assert.equal(made.status, 201);
      assert.equal((await call('admin', 'POST', `${NS}/T::Assoc/resource_types`, { name: 'OS::Trove::Instance' })).status, 409);
      const types = (await call('alice', 'GET', '/v2/metadefs/resource_types')).body.resource_types.map((t: { name: string }) => t.name);
      assert.ok(types.includes('OS::Trove::Instance'));
      const listed = await call('alice', 'GET', `${NS}/T::Assoc/resource_types`);
      assert.deepEqual(listed.body.resource_type_associations.map((a: { name: string; properties_target: string }) => [a.name, a.properties_target]),
        [['OS::Trove::Instance', 'image']]);
      assert.equal((await call('admin', 'DELETE', `${NS}/T::Assoc/resource_types/OS::Nova::Flavor`)).status, 404);
      assert.equal((await call('admin', 'DELETE', `${NS}/T::Assoc/resource_types/OS::Trove::Instance`)).status, 204);
      assert.deepEqual((await call('alice', 'GET', `${NS}/T::Assoc/resource_types`)).body.resource_type_associations, []);

      await call('admin', 'POST', `${NS}/T::Assoc/resource_types`, { name: 'OS::Nova::Flavor' });
      assert.equal((await call('admin', 'DELETE', `${NS}/T::Assoc`)).status, 204);
      const left = await database.db.selectFrom('metadef_association').selectAll().execute();
      assert.deepEqual(left, []);
    });

    test('namespace lists: default page size, next links, markers, sorting, filters', async () => {
      for (const n of ['T::P1', 'T::P2', 'T::P3', 'T::P4']) await call('admin', 'POST', NS, { namespace: n, visibility: 'public' });
      await call('admin', 'POST', `${NS}/T::P2/resource_types`, { name: 'OS::Nova::Aggregate' });
      const first = await call('alice', 'GET', `${NS}?sort_key=namespace&sort_dir=asc`);
      assert.deepEqual(first.body.namespaces.map((n: { namespace: string }) => n.namespace), ['T::P1', 'T::P2', 'T::P3']);
      assert.equal(first.body.first, `${NS}?sort_key=namespace&sort_dir=asc`);
      assert.equal(first.body.next, `${NS}?sort_key=namespace&sort_dir=asc&marker=T%3A%3AP3`);
      const second = await call('alice', 'GET', first.body.next);
      assert.deepEqual(second.body.namespaces.map((n: { namespace: string }) => n.namespace), ['T::P4']);
      assert.equal(second.body.next, undefined);
      const newest = await call('alice', 'GET', `${NS}?limit=1`);
      assert.equal(newest.body.namespaces[0].namespace, 'T::P4', 'default order: newest first');
      const byType = await call('alice', 'GET', `${NS}?resource_types=OS::Nova::Aggregate,OS::Cinder::Volume`);
      assert.deepEqual(byType.body.namespaces.map((n: { namespace: string }) => n.namespace), ['T::P2']);
      assert.equal(byType.body.namespaces[0].resource_type_associations[0].name, 'OS::Nova::Aggregate');
      assert.equal((await call('alice', 'GET', `${NS}?sort_dir=up`)).status, 400);
      assert.equal((await call('alice', 'GET', `${NS}?sort_key=secret`)).status, 400);
      assert.equal((await call('alice', 'GET', `${NS}?limit=-1`)).status, 400);
      assert.equal((await call('alice', 'GET', `${NS}?limit=abc`)).status, 400);
      assert.equal((await call('alice', 'GET', `${NS}?visibility=shared`)).status, 400);
      assert.equal((await call('alice', 'GET', `${NS}?marker=T::Nope`)).status, 404);
      for (const n of ['T::P1', 'T::P2', 'T::P3', 'T::P4']) assert.equal((await call('admin', 'DELETE', `${NS}/${n}`)).status, 204);
    });

    test('schemas: the ten metadef documents with the names tempest checks', async () => {
      const expected: Record<string, string> = {
        namespace: 'namespace', namespaces: 'namespaces', resource_type: 'resource_type_association',
        resource_types: 'resource_type_associations', object: 'object', objects: 'objects', property: 'property',
        properties: 'properties', tag: 'tag', tags: 'tags',
      };
      for (const [path, name] of Object.entries(expected)) {
        const r = await call('alice', 'GET', `/v2/schemas/metadefs/${path}`);
        assert.equal(r.status, 200, path);
        assert.equal(r.body.name, name);
      }
      const ns = (await call('alice', 'GET', '/v2/schemas/metadefs/namespaces')).body;
      assert.equal(ns.properties.namespaces.type, 'array');
      assert.equal(ns.properties.namespaces.items.name, 'namespace');
      assert.ok(ns.definitions.property, 'definitions move to the collection document');
      assert.equal(ns.properties.namespaces.items.definitions, undefined);
      const props = (await call('alice', 'GET', '/v2/schemas/metadefs/properties')).body;
      assert.deepEqual(props.properties.properties.additionalProperties.required, ['type', 'title']);
      assert.deepEqual((await call('alice', 'GET', '/v2/schemas/metadefs/property')).body.required, ['type', 'title', 'name']);
    });

    test('hostile input: every route answers garbage with a 4xx, never a 5xx', async () => {
      // The namespace and one of each thing in it, put back after every request that may have removed them.
      const seed = async () => {
        await call('admin', 'POST', NS, { namespace: 'T::Hostile', visibility: 'public' });
        await call('admin', 'PUT', `${NS}/T::Hostile`, { namespace: 'T::Hostile', visibility: 'public' });
        await call('admin', 'POST', `${NS}/T::Hostile/properties`, { name: 'p', title: 'p', type: 'string' });
        await call('admin', 'POST', `${NS}/T::Hostile/objects`, { name: 'o' });
        await call('admin', 'POST', `${NS}/T::Hostile/tags/t`);
        await call('admin', 'POST', `${NS}/T::Hostile/resource_types`, { name: 'OS::Glance::Image' });
      };
      await seed();
      const bodies: unknown[] = [
        null, 0, 'x', [], [{}], {}, { name: null }, { namespace: 7 }, { name: 'x'.repeat(100_000) }, { __proto__: { a: 1 }, name: 'p' },
        { namespace: 'T::Hostile', properties: { '__proto__': { title: 't', type: 'string' } } }, { tags: 'x' }, { tags: [{ name: 5 }] },
        { namespace: 'T::Hostile', objects: [{ name: 'o', properties: { q: { title: 't', type: 'string', items: 'x' } } }] },
        { name: 'p', title: 't', type: 'string', minimum: 'one' }, { name: 'p', title: 't', type: 'string', enum: 'x' },
        { namespace: 'T::Hostile', name: 'p', created_at: 'x' }, { namespace: 'T::Hostile', resource_type_associations: [{ prefix: 'x' }] }, { namespace: 'T::Hostile', resource_type_associations: [{ name: 'r'.repeat(81) }] },
      ];
      const params: Record<string, string> = { namespace: 'T::Hostile', object: 'o', property: 'p', tag: 't', resourceType: 'OS::Glance::Image' };
      const seen = new Set<number>();
      for (const r of routesOf(app)) {
        if (r.method === 'HEAD') continue;
        const url = r.url.replace(/:(\w+)/g, (_m, k: string) => encodeURIComponent(params[k] ?? k));
        const reads = r.method === 'GET' || r.method === 'DELETE';
        for (const query of reads ? ['', '?marker=nope&resource_types=,,,&resource_type=OS::Nova::Flavor', '?limit=x&marker=%00&sort_key=__proto__&sort_dir=&visibility=%FF&resource_type=%00'] : ['']) {
          for (const body of reads ? [undefined] : bodies) {
            const res = await call('admin', r.method, url + query, body);
            seen.add(res.status);
            if ((r.method === 'DELETE' || r.method === 'PUT') && res.status < 300) await seed();
            assert.ok(res.status < 500, `${r.method} ${url}${query} ${JSON.stringify(body)?.slice(0, 80)} → ${res.status} ${JSON.stringify(res.body)}`);
          }
        }
      }
      for (const s of [200, 201, 204, 400, 403, 404, 405, 409]) assert.ok(seen.has(s), `some request got ${s}`);
      // NUL characters (PostgreSQL refuses them in text) in names, filters and bodies.
      for (const [method, url, body] of [
        ['GET', `${NS}/T%00x`], ['GET', `${NS}?resource_types=a%00b`], ['GET', `${NS}/T::Hostile/tags/a%00`],
        ['POST', NS, { namespace: 'T\u0000x' }], ['POST', `${NS}/T::Hostile/tags`, { tags: [{ name: 'a\u0000' }] }],
        ['POST', `${NS}/T::Hostile/properties`, { name: 'q', title: 't', type: 'string', enum: ['a\u0000'] }],
      ] as [string, string, unknown?][]) {
        const res = await call('admin', method, url, body);
        assert.equal(res.status, 400, `${method} ${url} → ${res.status} ${JSON.stringify(res.body)}`);
      }
      await call('admin', 'PUT', `${NS}/T::Hostile`, { namespace: 'T::Hostile' });
      assert.equal((await call('admin', 'DELETE', `${NS}/T::Hostile`)).status, 204);
    });
  });
}
