// Walks every route of the servers part of the compute API (/servers and their actions, metadata,
// ips, instance actions, interfaces, tags, password, diagnostics; /os-server-groups;
// /os-simple-tenant-usage; /os-hosts; /os-migrations; /os-server-external-events) with hostile
// ids, queries, bodies and headers, as an admin and as a member, on a cloud with a simulated
// (`fake`) compute host and real ACTIVE servers, so the per-server routes reach their handlers.
// Expectation: never a 5xx (501 only with a fault saying why), always Nova's fault body on a 4xx,
// input Nova's schemas refuse is refused, and a refused call changes nothing (no instance, action,
// group, image, port or allocation written). An accepted call is let finish, and the test server
// is put back (ACTIVE, unlocked, its metadata key and tag) before the walk goes on.
// HOSTILE_TRACE=1 prints every call's status and, at the end, every failure (on stderr).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql, type Kysely } from 'kysely';
import { routesOf } from '../../src/platform/http/server.js';
import { startFakeCompute, type FakeCompute } from './fake-compute.js';

let c: FakeCompute;
/** The run's real objects: the demo member's ACTIVE server and what hangs off it, the admin's server, the fake host. */
const ids: Record<'server' | 'theirs' | 'group' | 'port' | 'request' | 'net' | 'image' | 'host', string> = {} as never;
/** Servers that stay (anything else alive after an accepted call is an accepted create: deleted again). */
const keep = new Set<string>();

/** The compute API foundation's collections (hostile-input.test.ts walks them). */
const FOUNDATION = /^\/v2(\.1)?(\/:project_id)?(\/(flavors|os-keypairs|os-quota-sets|os-quota-class-sets|limits|os-services|os-availability-zone|os-hypervisors|os-aggregates|extensions|versions)(\/|$)|$)|^\/$/;
/**
 * The image and network proxies' own collections (src/compute/proxies/). Everything else under
 * /v2.1 is the servers part's, /servers/{id}/os-security-groups included: a new route there fails
 * this test until it has its hostile cases below.
 */
const PROXIES = /^\/v2\.1\/(images|os-floating-ips|os-floating-ip-pools|os-networks|os-tenant-networks|os-security-groups|os-security-group-rules|os-fping|os-cells)(\/|$)/;

type Who = 'admin' | 'demo' | 'none' | 'bad';
const tokenOf = (who: Who): string | undefined => (who === 'admin' ? c.admin : who === 'demo' ? c.demo : who === 'bad' ? 'gAAAAABnot-a-token' : undefined);

interface Request {
  readonly method: string;
  readonly url: string;
  readonly who: Who;
  readonly body?: string | Buffer;
  readonly version?: string;
  readonly headers?: Record<string, string>;
  /** Must be refused (4xx, or 501): Nova's schema or checks refuse it. */
  readonly reject?: boolean;
  readonly label: string;
}

async function send(r: Request) {
  const token = tokenOf(r.who);
  return c.h.cloud.compute.app.inject({
    method: r.method as never, url: r.url, payload: r.body,
    headers: {
      ...(token ? { 'x-auth-token': token } : {}), ...(r.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(r.version ? { 'openstack-api-version': `compute ${r.version}` } : {}), ...r.headers,
    },
  });
}

/** An admin call that must succeed (setup and putting the server back). */
async function must(method: string, url: string, body?: unknown, version = '2.90'): Promise<any> {
  const res = await send({ method, url, who: 'admin', body: body === undefined ? undefined : JSON.stringify(body), version, label: 'setup' });
  assert.ok(res.statusCode < 300, `${method} ${url}: ${res.statusCode} ${res.body}`);
  return res.body ? JSON.parse(res.body) : undefined;
}

/** SQLite's count of rows written so far on the cloud's one connection (every service's writes). */
async function writes(): Promise<number> {
  const r = await sql<{ n: number }>`select total_changes() as n`.execute(c.h.cloud.compute.ctx.db);
  return Number(r.rows[0]!.n);
}

/**
 * What a servers call may write: compute's tables (but the host's own reports), images, ports and
 * their addresses, placement allocations.
 */
const WATCHED = (t: string) => (t.startsWith('compute_') && !['compute_service', 'compute_node'].includes(t)) || t.startsWith('image')
  || ['net_port', 'net_ip_allocation', 'placement_allocation', 'placement_consumer'].includes(t);
let watched: string[] = [];
async function snapshot(): Promise<string> {
  const db = c.h.cloud.compute.ctx.db as unknown as Kysely<Record<string, unknown>>;
  const out: string[] = [];
  for (const t of watched) {
    const rows = await db.selectFrom(t as never).selectAll().execute();
    out.push(`${t}=${rows.length}:${rows.map((r) => JSON.stringify(r)).sort().join('|')}`);
  }
  return out.join('\n');
}

const serversDb = () => c.h.cloud.compute.ctx.db as unknown as Kysely<{ compute_instance: { uuid: string; vm_state: string; task_state: string | null; locked: number; deleted: number; body: string } }>;

/**
 * Lets accepted work finish and puts the test server back: extra servers deleted, unlocked,
 * ACTIVE, its metadata key `k` and tag `blue` there.
 */
async function settle(): Promise<void> {
  const runtime = c.h.cloud.servers!;
  let last = '';
  for (let round = 0; round < 60; round++) {
    await runtime.idle();
    const live = await serversDb().selectFrom('compute_instance').select(['uuid', 'vm_state', 'task_state', 'locked', 'body']).where('deleted', '=', 0).execute();
    const extra = live.filter((r) => !keep.has(r.uuid));
    if (extra.length) {
      for (const r of extra) {
        if (r.task_state !== 'deleting') await send({ method: 'DELETE', url: `/v2.1/servers/${r.uuid}`, who: 'admin', label: 'settle' });
      }
      await sleep(20);
      continue;
    }
    const me = live.find((r) => r.uuid === ids.server);
    assert.ok(me, 'the test server is gone');
    last = `${me.vm_state}/${me.task_state}/locked=${me.locked}`;
    if (me.task_state) { await sleep(20); continue; }
    const action = (body: unknown) => must('POST', `/v2.1/servers/${ids.server}/action`, body);
    if (me.locked) { await action({ unlock: null }); continue; }
    const back: Record<string, unknown> = {
      stopped: { 'os-start': null }, paused: { unpause: null }, suspended: { resume: null }, rescued: { unrescue: null }, resized: { revertResize: null },
      shelved: { unshelve: null }, shelved_offloaded: { unshelve: null }, error: { reboot: { type: 'HARD' } },
    };
    if (back[me.vm_state]) { await action(back[me.vm_state]); continue; }
    assert.equal(me.vm_state, 'active');
    const body = JSON.parse(me.body) as { metadata: Record<string, string>; tags: string[] };
    if (body.metadata.k !== 'v') await must('PUT', `/v2.1/servers/${ids.server}/metadata/k`, { meta: { k: 'v' } });
    if (!body.tags.includes('blue')) await must('PUT', `/v2.1/servers/${ids.server}/tags/blue`);
    if (body.metadata.k !== 'v' || !body.tags.includes('blue')) continue;
    return;
  }
  assert.fail(`the test server did not settle (${last})`);
}

before(async () => {
  c = await startFakeCompute([`fake-${process.pid}-x`]);
  ids.host = c.hosts[0]!;
  const db = c.h.cloud.compute.ctx.db as unknown as Kysely<Record<string, unknown>>;
  watched = (await db.introspection.getTables()).map((t) => t.name).filter(WATCHED).sort();
  ids.image = c.imageId;
  ids.server = await c.createServer(c.demo, { name: 'hostile', metadata: { k: 'v' } });
  ids.theirs = await c.createServer(c.admin, { name: 'theirs', networks: 'none' }, undefined, '2.37');
  for (const id of [ids.server, ids.theirs]) {
    const s = await c.waitStatus(id, 'ACTIVE', 'ERROR');
    assert.equal(s.status, 'ACTIVE', JSON.stringify(s.fault));
    keep.add(id);
  }
  await must('PUT', `/v2.1/servers/${ids.server}/tags/blue`);
  const ifs = (await must('GET', `/v2.1/servers/${ids.server}/os-interface`)).interfaceAttachments;
  assert.equal(ifs.length, 1);
  ids.port = ifs[0].port_id;
  ids.net = ifs[0].net_id;
  ids.request = (await must('GET', `/v2.1/servers/${ids.server}/os-instance-actions`)).instanceActions[0].request_id;
  const g = await send({ method: 'POST', url: '/v2.1/os-server-groups', who: 'demo', version: '2.64', body: JSON.stringify({ server_group: { name: 'hostile-g', policy: 'anti-affinity' } }), label: 'setup' });
  assert.equal(g.statusCode, 200, g.body);
  ids.group = g.json().server_group.id;
  await settle();
});
after(async () => { await c?.close(); });

// ---------------------------------------------------------------- inputs

/**
 * Hostile values for any path parameter (the good values of the others stay). No bare `..` or
 * `%2E%2E` segment: inject resolves those as a URL parser does (…/metadata/.. would be a DELETE of
 * the server itself); an HTTP client sends them as is and the router takes them as ids.
 */
const hostileValues = (): string[] => [
  'x'.repeat(300), 'x'.repeat(1100), '%00', '%25', '%', "'%20OR%201=1%20--", '1%3B%20DROP%20TABLE%20compute_instance', '..%2F..%2Fetc%2Fpasswd', '...', '..%5C..',
  '%E2%98%83', '%F0%9F%92%A9', '%FF%FE', '%C0%AF', '-1', '0', '99999999999999999999', '1.5', 'null', '%7B%7D', '__proto__', 'constructor',
  randomUUID(), ids.server.toUpperCase(), ids.server.replace(/-/g, ''), `%7B${ids.server}%7D`, ids.theirs, ids.group, ids.port,
];

/** Values of each parameter that name the run's real objects. */
const goodParams = (): Record<string, string> => ({
  server_id: ids.server, key: 'k', tag: 'blue', network: 'private', port_id: ids.port, request_id: ids.request, id: ids.group, tenant_id: c.demoProject,
  host_name: ids.host, before: '2026-01-01%2000:00:00', console_id: '1',
});
/** Path parameters whose hostile values may name something that is fine to accept (a new tag or key; any project's usage, for an admin). */
const FREE_PARAMS = new Set(['PUT /servers/:server_id/tags/:tag tag', 'PUT /servers/:server_id/metadata/:key key', 'GET /os-simple-tenant-usage/:tenant_id tenant_id']);

const J = (v: unknown): string => JSON.stringify(v);
interface Body { readonly label: string; readonly body: string | Buffer; readonly reject: boolean; readonly version?: string; readonly who?: readonly Who[] }
const bad = (label: string, v: unknown, version?: string, who?: readonly Who[]): Body => ({ label, body: typeof v === 'string' ? v : J(v), reject: true, ...(version ? { version } : {}), ...(who ? { who } : {}) });
const any = (label: string, v: unknown, version?: string, who?: readonly Who[]): Body => ({ ...bad(label, v, version, who), reject: false });

/** A JSON value nested `n` deep (arrays), as text. */
const deepArray = (n: number): string => '['.repeat(n) + ']'.repeat(n);
/** A JSON object nested `n` deep, as text. */
const deepObject = (n: number): string => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
const DEEP = deepArray(150_000);
const DEEP_OBJ = deepObject(100_000);
const HUGE = 'x'.repeat(200_000);
const many = (n: number, v = 'v'): Record<string, string> => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, v]));

/** Bodies that no writing route accepts (but the few a route names as lenient). */
const genericBodies = (): Body[] => [
  bad('empty', ''), bad('not json', '{bad json'), bad('truncated', '{"server": {"name": "x"'), bad('array', '[]'), bad('null', 'null'), bad('string', '"string"'),
  bad('number', '12'), bad('true', 'true'), bad('nan', 'NaN'), bad('infinite', '1e999'), bad('empty object', '{}'),
  bad('proto', '{"__proto__":{"polluted":true}}'), bad('constructor', '{"constructor":{"prototype":{"polluted":true}}}'),
  bad('deep array', DEEP), bad('deep object', DEEP_OBJ), bad('deep value', `{"x": ${DEEP}}`), bad('huge', J({ x: HUGE })),
  bad('over the body limit', J({ x: 'x'.repeat(1_100_000) })), { label: 'not utf-8', body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]), reject: true },
  bad('nul', '{"\\u0000": "\\u0000"}'), bad('unknown key', { bogus: 1 }),
];

/** A server create body that would be accepted, with `server` fields merged over it. */
const base = (server: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Record<string, unknown> =>
  ({ server: { name: 'h', imageRef: ids.image, flavorRef: '42', networks: [{ uuid: ids.net }], ...server }, ...extra });

function createBodies(): Body[] {
  const v = '2.90';
  const out: Body[] = [
    bad('server null', { server: null }), bad('server array', { server: [] }), bad('server string', { server: 'x' }), bad('server empty', { server: {} }),
    bad('unknown top-level key', base({}, { bogus: 1 })), bad('unknown server key', base({ bogus: 1 })), bad('unknown server key 2.90', base({ bogus: 1 }), v),
    bad('deep field', `{"server": {"name": ${DEEP}, "flavorRef": "42"}}`), bad('deep metadata', `{"server": {"name": "h", "flavorRef": "42", "metadata": {"a": ${DEEP}}}}`),
    bad('deep hints', `{"server": {"name": "h", "imageRef": "${ids.image}", "flavorRef": "42", "networks": [{"uuid": "${ids.net}"}]}, "os:scheduler_hints": {"a": ${DEEP}}}`),
  ];
  const fields: [string, unknown[]][] = [
    ['name', [null, 7, '', ' lead', 'trail ', 'x'.repeat(256), HUGE, '\u0000', '\u2028', ['x'], { a: 1 }]],
    ['imageRef', [null, 7, 'not-a-uuid', randomUUID(), 'x'.repeat(300), '../../images', '', {}]],
    ['flavorRef', [null, '', 'nope', -1, 1.5, 1e30, {}, [], '../../flavors/42/../nope', 'x'.repeat(300)]],
    ['networks', [null, 'bogus', 'none', {}, [null], [{}], [{ uuid: 'x' }], [{ uuid: 7 }], [{ uuid: randomUUID() }], [{ port: 'nope' }], [{ port: randomUUID() }],
      [{ uuid: '%NET%', fixed_ip: 'x' }], [{ uuid: '%NET%', fixed_ip: '10.0.0.999' }], [{ uuid: '%NET%', fixed_ip: '' }], [{ uuid: '%NET%', bogus: 1 }],
      [{ uuid: '%NET%', tag: 'x' }], [{ port: '%PORT%' }]]],
    ['user_data', [7, 'not base64!', 'YQ', '====', 'A===', '=AAA', 'x'.repeat(65536), ['YQ=='], {}]],
    ['block_device_mapping_v2', ['x', [1], [null], [{}], [{ source_type: 'bogus' }], [{ source_type: 'image', boot_index: 'x' }], [{ destination_type: 'volume', source_type: 'volume', uuid: randomUUID(), boot_index: 0 }],
      [{ source_type: 'image', destination_type: 'local', uuid: '%IMAGE%', boot_index: 0, bogus: 1 }], [{ source_type: 'image', destination_type: 'bogus', uuid: '%IMAGE%', boot_index: 0 }],
      [{ source_type: 'blank', destination_type: 'local', volume_size: -1 }], [{ source_type: 'image', uuid: '../x', boot_index: 0 }]]],
    ['block_device_mapping', ['x', [{}], [{ volume_id: randomUUID(), device_name: 'vda' }]]],
    ['min_count', [0, -1, 'x', 1.5, '1.5', null, '', 2 ** 53 + 2, 1e30, '99999999999999999999']],
    ['max_count', [0, -1, 'x', 1.5, null, '']],
    ['metadata', ['x', [], null, { k: 7 }, { k: null }, { ['k'.repeat(256)]: 'v' }, { '': 'v' }, { 'a/b': 'v' }, { k: 'v'.repeat(256) }, many(129)]],
    ['security_groups', ['x', [], [{ name: 'nope' }], [{ name: 7 }], [{ bogus: 1 }], [null], [{ name: '' }]]],
    ['availability_zone', ['', 7, 'nozone', 'a:b:c', ':::', 'x'.repeat(256)]],
    ['key_name', ['', 7, 'nope', 'x'.repeat(256)]],
    ['accessIPv4', [7, 'x', '1.2.3.999', '::1']],
    ['accessIPv6', [7, 'x', '1.2.3.4']],
    ['adminPass', [7, null, {}]],
    ['OS-DCF:diskConfig', ['x', 7]],
    ['config_drive', ['maybe', 7, null]],
    ['return_reservation_id', ['maybe', 7]],
  ];
  const sub = (x: unknown): unknown => JSON.parse(J(x).replace(/%NET%/g, ids.net).replace(/%PORT%/g, ids.port).replace(/%IMAGE%/g, ids.image).replace(/%HOST%/g, ids.host));
  for (const [f, values] of fields) for (const x of values) out.push(bad(`server.${f}=${J(x)?.slice(0, 40)}`, base({ [f]: sub(x) }), '2.1'));
  // The same fields and the microversioned ones at 2.90.
  for (const [f, values] of [
    ['networks', ['bogus', [{ uuid: 'x' }], [{ uuid: '%NET%', tag: 'a/b' }], [{ uuid: '%NET%', tag: 'x'.repeat(61) }]]],
    ['description', [7, 'x'.repeat(256), '\u0000', {}]],
    ['tags', ['x', [7], ['a,b'], ['a/b'], [''], ['t'.repeat(61)], Array.from({ length: 51 }, (_, i) => `t${i}`)]],
    ['trusted_image_certificates', ['x', [], [''], [7], Array.from({ length: 51 }, (_, i) => `c${i}`)]],
    ['host', ['', 7, '../', 'a b', 'x'.repeat(256), 'nohost']],
    ['availability_zone', ['nozone', 'nozone::', `nozone:${'%HOST%'}`]],
    ['hypervisor_hostname', ['', '../', 'nonode']],
    ['hostname', ['', '-bad', 'a_b', 'x'.repeat(64), 7]],
  ] as [string, unknown[]][]) {
    for (const x of values) out.push(bad(`server.${f}=${J(x)?.slice(0, 40)} @2.90`, base({ [f]: sub(x) }), v));
  }
  out.push(
    bad('description before 2.19', base({ description: 'd' }), '2.18'), bad('tags before 2.52', base({ tags: ['a'] }), '2.51'), bad('hostname before 2.90', base({ hostname: 'h' }), '2.89'),
    bad('host before 2.74', base({ host: ids.host }), '2.73'), bad('certificates before 2.63', base({ trusted_image_certificates: ['c'] }), '2.62'),
    bad('min_count = max_count = 2^53+2', base({ min_count: 2 ** 53 + 2, max_count: 2 ** 53 + 2 })), bad('min_count = max_count = 1e30', base({ min_count: 1e30, max_count: 1e30 })),
    // Accepted as Nova does (as many as the quota holds), but computed, not counted down from 1e30.
    any('max_count 1e30', base({ max_count: 1e30 }), undefined, ['demo']),
    bad('networks none before 2.37', base({ networks: 'none' }), '2.36'), bad('network tag before 2.32', base({ networks: [{ uuid: ids.net, tag: 't' }] }), '2.31'), bad('networks missing at 2.37', { server: { name: 'h', imageRef: ids.image, flavorRef: '42' } }, '2.37'),
    bad('min_count > max_count', base({ min_count: 3, max_count: 2 })), bad('min_count over quota', base({ min_count: 11, max_count: 11 })),
    bad('fixed_ip with max_count 2', base({ max_count: 2, networks: [{ uuid: ids.net, fixed_ip: '10.0.0.50' }] })),
    bad('one port, max_count 2', base({ max_count: 2, networks: [{ port: ids.port }] })),
  );
  // Scheduler hints (Nova's schema: group and same/different_host are UUIDs, build_near_host_ip an address, cidr a /prefix).
  for (const key of ['os:scheduler_hints', 'OS-SCH-HNT:scheduler_hints']) {
    for (const h of ['x', [], null, 7, { group: 'nope' }, { group: randomUUID() }, { group: 7 }, { group: [ids.group] }, { same_host: 'x' }, { same_host: ['x'] },
      { different_host: 'x' }, { different_host: [7] }, { build_near_host_ip: 'x' }, { build_near_host_ip: '10.0.0.1', cidr: 'x' }, { query: 7 },
      { target_cell: 7 }, { different_cell: 7 }]) {
      out.push(bad(`${key}=${J(h).slice(0, 40)}`, base({}, { [key]: h }), '2.1'));
    }
  }
  return out;
}

/**
 * Nova actions this cloud may not run: with bodies Nova's own schemas refuse, so they are refused
 * whether the action is offered (400) or not (400 "no such action", or 501 saying why).
 */
const OTHER_NOVA_ACTIONS: readonly [string, unknown, boolean][] = [
  ['changePassword', {}, true], ['changePassword', { adminPass: 7 }, true], ['evacuate', { host: 7 }, true], ['evacuate', 'x', true], ['trigger_crash_dump', 'x', true],
  ['addFixedIp', {}, true], ['removeFixedIp', {}, true], ['os-getVNCConsole', { type: 'bogus' }, true], ['os-getSPICEConsole', {}, true],
  ['os-getSerialConsole', { type: 7 }, true], ['os-getRDPConsole', null, true], ['injectNetworkInfo', null, false], ['resetNetwork', null, false],
];
/** The actions the servers part runs (forceDelete too, walked apart: any body deletes). */
const OUR_ACTIONS = ['os-start', 'os-stop', 'reboot', 'pause', 'unpause', 'suspend', 'resume', 'lock', 'unlock', 'os-getConsoleOutput', 'createImage', 'rebuild',
  'resize', 'confirmResize', 'revertResize', 'shelve', 'shelveOffload', 'unshelve', 'rescue', 'unrescue', 'createBackup', 'os-resetState', 'restore', 'migrate',
  'os-migrateLive', 'addSecurityGroup', 'removeSecurityGroup', 'addFloatingIp', 'removeFloatingIp'];
/** Actions whose body Nova does not look at (2.1): any value is accepted. */
const BODY_IGNORED = new Set(['os-start', 'os-stop', 'pause', 'unpause', 'suspend', 'resume', 'lock', 'unlock', 'confirmResize', 'revertResize', 'shelve', 'shelveOffload', 'unshelve', 'unrescue',
  'restore', 'migrate']);

function actionBodies(): Body[] {
  const out: Body[] = [
    bad('two actions', { 'os-stop': null, 'os-start': null }), bad('no such action', { bogus: null }), bad('action case', { 'OS-STOP': null }),
    bad('proto action', '{"__proto__": null}'), bad('toString action', { toString: null }), bad('constructor action', { constructor: null }),
  ];
  for (const [a, v, reject] of OTHER_NOVA_ACTIONS) out.push({ ...bad(`${a}: ${J(v)}`, { [a]: v }), reject });
  // Every action's body of the wrong type, unknown keys and deep: refused unless the action ignores its body.
  for (const a of OUR_ACTIONS) {
    const who: readonly Who[] = BODY_IGNORED.has(a) ? ['demo'] : ['admin', 'demo'];
    for (const [label, v] of [['string', '"x"'], ['array', '[]'], ['number', '7'], ['unknown key', '{"bogus": 1}'], ['deep', DEEP], ['deep key', `{"bogus": ${DEEP}}`]] as const) {
      out.push({ label: `${a}: ${label}`, body: `{"${a}": ${v}}`, reject: !BODY_IGNORED.has(a), who });
    }
  }
  const img = ids.image;
  out.push(
    bad('reboot null', { reboot: null }), bad('reboot empty', { reboot: {} }), bad('reboot WARM', { reboot: { type: 'WARM' } }), bad('reboot type 7', { reboot: { type: 7 } }),
    bad('reboot extra', { reboot: { type: 'HARD', bogus: 1 } }),
    bad('console null', { 'os-getConsoleOutput': null }), bad('console length x', { 'os-getConsoleOutput': { length: 'x' } }), bad('console length -2', { 'os-getConsoleOutput': { length: -2 } }),
    bad('console length 1.5', { 'os-getConsoleOutput': { length: 1.5 } }), bad('console length 1e3', { 'os-getConsoleOutput': { length: '1e3' } }),
    bad('console extra', { 'os-getConsoleOutput': { length: 1, bogus: 1 } }), any('console length huge', { 'os-getConsoleOutput': { length: 1e20 } }),
    any('console length big string', { 'os-getConsoleOutput': { length: '99999999999999999999999' } }),
    any('lock reason before 2.73', { lock: { locked_reason: 'r' } }), bad('lock reason 7', { lock: { locked_reason: 7 } }, '2.73'),
    bad('lock reason long', { lock: { locked_reason: 'x'.repeat(256) } }, '2.73'), bad('lock extra 2.73', { lock: { bogus: 1 } }, '2.73'),
    bad('lock string 2.73', { lock: 'x' }, '2.73'), bad('lock deep reason', `{"lock": {"locked_reason": ${DEEP}}}`, '2.73'), any('lock deep before 2.73', `{"lock": {"locked_reason": ${DEEP}}}`),
    bad('createImage null', { createImage: null }), bad('createImage empty', { createImage: {} }), bad('createImage name empty', { createImage: { name: '' } }),
    bad('createImage name 7', { createImage: { name: 7 } }), bad('createImage name long', { createImage: { name: 'x'.repeat(256) } }),
    bad('createImage name nul', { createImage: { name: '\u0000' } }), bad('createImage metadata string', { createImage: { name: 'i', metadata: 'x' } }),
    bad('createImage metadata value 7', { createImage: { name: 'i', metadata: { k: 7 } } }), bad('createImage metadata key', { createImage: { name: 'i', metadata: { 'a/b': 'v' } } }),
    bad('createImage extra', { createImage: { name: 'i', bogus: 1 } }), bad('createImage metadata over quota', { createImage: { name: 'i', metadata: many(129) } }),
    bad('rebuild null', { rebuild: null }), bad('rebuild empty', { rebuild: {} }), bad('rebuild imageRef x', { rebuild: { imageRef: 'x' } }),
    bad('rebuild imageRef 7', { rebuild: { imageRef: 7 } }), bad('rebuild unknown image', { rebuild: { imageRef: randomUUID() } }),
    bad('rebuild extra', { rebuild: { imageRef: img, bogus: 1 } }), bad('rebuild name empty', { rebuild: { imageRef: img, name: '' } }),
    bad('rebuild metadata', { rebuild: { imageRef: img, metadata: { k: 7 } } }), bad('rebuild metadata over quota', { rebuild: { imageRef: img, metadata: many(129) } }),
    bad('rebuild accessIPv4', { rebuild: { imageRef: img, accessIPv4: 'x' } }), bad('rebuild accessIPv6', { rebuild: { imageRef: img, accessIPv6: '1.2.3.4' } }),
    bad('rebuild preserve_ephemeral', { rebuild: { imageRef: img, preserve_ephemeral: 'maybe' } }), bad('rebuild diskConfig', { rebuild: { imageRef: img, 'OS-DCF:diskConfig': 'x' } }),
    bad('rebuild user_data before 2.57', { rebuild: { imageRef: img, user_data: 'YQ==' } }, '2.56'), bad('rebuild user_data', { rebuild: { imageRef: img, user_data: 'not base64!' } }, '2.57'),
    bad('rebuild key_name', { rebuild: { imageRef: img, key_name: 'nope' } }, '2.54'), bad('rebuild key_name before 2.54', { rebuild: { imageRef: img, key_name: 'k' } }, '2.53'), bad('rebuild key_name empty', { rebuild: { imageRef: img, key_name: '' } }, '2.54'),
    bad('rebuild description', { rebuild: { imageRef: img, description: 7 } }, '2.19'), bad('rebuild hostname', { rebuild: { imageRef: img, hostname: '-x' } }, '2.90'),
    bad('rebuild certificates', { rebuild: { imageRef: img, trusted_image_certificates: [] } }, '2.63'), bad('rebuild deep', `{"rebuild": {"imageRef": "${img}", "metadata": {"a": ${DEEP}}}}`),
    bad('resize null', { resize: null }), bad('resize empty', { resize: {} }), bad('resize flavor empty', { resize: { flavorRef: '' } }), bad('resize flavor nope', { resize: { flavorRef: 'nope' } }),
    bad('resize same flavor', { resize: { flavorRef: '42' } }), bad('resize flavor 1.5', { resize: { flavorRef: 1.5 } }), bad('resize flavor -1', { resize: { flavorRef: -1 } }),
    bad('resize flavor null', { resize: { flavorRef: null } }), bad('resize extra', { resize: { flavorRef: '1', bogus: 1 } }), bad('resize diskConfig', { resize: { flavorRef: '1', 'OS-DCF:diskConfig': 'x' } }),
    bad('resize flavor long', { resize: { flavorRef: 'x'.repeat(70_000) } }),
    bad('rescue image x', { rescue: { rescue_image_ref: 'x' } }), bad('rescue unknown image', { rescue: { rescue_image_ref: randomUUID() } }), bad('rescue adminPass 7', { rescue: { adminPass: 7 } }),
    bad('unshelve az 7', { unshelve: { availability_zone: 7 } }, '2.77'), bad('unshelve empty 2.77', { unshelve: {} }, '2.77'), bad('unshelve string 2.77', { unshelve: 'x' }, '2.77'),
    bad('unshelve host 7', { unshelve: { host: 7 } }, '2.91'), bad('unshelve extra 2.91', { unshelve: { bogus: 1 } }, '2.91'),
    bad('createBackup empty', { createBackup: {} }), bad('createBackup no type', { createBackup: { name: 'b', rotation: 1 } }),
    bad('createBackup rotation -1', { createBackup: { name: 'b', backup_type: 'daily', rotation: -1 } }), bad('createBackup rotation x', { createBackup: { name: 'b', backup_type: 'daily', rotation: 'x' } }),
    bad('createBackup rotation 1.5', { createBackup: { name: 'b', backup_type: 'daily', rotation: 1.5 } }), bad('createBackup name empty', { createBackup: { name: '', backup_type: 'daily', rotation: 1 } }),
    bad('createBackup name long', { createBackup: { name: 'x'.repeat(256), backup_type: 'daily', rotation: 1 } }), bad('createBackup type 7', { createBackup: { name: 'b', backup_type: 7, rotation: 1 } }),
    bad('createBackup metadata', { createBackup: { name: 'b', backup_type: 'daily', rotation: 1, metadata: { k: 7 } } }), bad('createBackup extra', { createBackup: { name: 'b', backup_type: 'daily', rotation: 1, bogus: 1 } }),
    bad('createBackup metadata over quota', { createBackup: { name: 'b', backup_type: 'daily', rotation: 1, metadata: many(129) } }),
    bad('resetState bogus', { 'os-resetState': { state: 'bogus' } }), bad('resetState empty', { 'os-resetState': {} }), bad('resetState null', { 'os-resetState': null }),
    bad('resetState extra', { 'os-resetState': { state: 'active', bogus: 1 } }), bad('resetState state 7', { 'os-resetState': { state: 7 } }),
    bad('migrateLive host 7', { 'os-migrateLive': { host: 7 } }), bad('migrateLive block_migration', { 'os-migrateLive': { host: null, block_migration: 'maybe' } }, '2.25'),
    bad('addSecurityGroup empty', { addSecurityGroup: {} }), bad('addSecurityGroup name empty', { addSecurityGroup: { name: '' } }), bad('addSecurityGroup name 7', { addSecurityGroup: { name: 7 } }),
    bad('addSecurityGroup unknown', { addSecurityGroup: { name: 'nope' } }), bad('addSecurityGroup extra', { addSecurityGroup: { name: 'default', bogus: 1 } }),
    bad('addSecurityGroup long', { addSecurityGroup: { name: 'x'.repeat(256) } }), bad('addSecurityGroup present', { addSecurityGroup: { name: 'default' } }),
    bad('removeSecurityGroup unknown', { removeSecurityGroup: { name: 'nope' } }), bad('removeSecurityGroup null', { removeSecurityGroup: null }),
    bad('addFloatingIp empty', { addFloatingIp: {} }, '2.43'), bad('addFloatingIp x', { addFloatingIp: { address: 'x' } }, '2.43'),
    bad('addFloatingIp unknown', { addFloatingIp: { address: '203.0.113.254' } }, '2.43'), bad('addFloatingIp fixed x', { addFloatingIp: { address: '203.0.113.254', fixed_address: 'x' } }, '2.43'),
    bad('addFloatingIp extra', { addFloatingIp: { address: '203.0.113.254', bogus: 1 } }, '2.43'), bad('addFloatingIp at 2.44', { addFloatingIp: { address: '203.0.113.254' } }, '2.44'),
    bad('removeFloatingIp x', { removeFloatingIp: { address: 'x' } }, '2.43'), bad('removeFloatingIp unknown', { removeFloatingIp: { address: '203.0.113.254' } }, '2.43'),
  );
  return out;
}

const ROUTE_CASES: Record<string, { probe?: (p: Record<string, string>) => unknown; bodies?: () => Body[]; queries?: () => string[]; lenient?: readonly string[] }> = {
  'GET /servers': { queries: () => serverQueries() },
  'GET /servers/detail': { queries: () => serverQueries() },
  'POST /servers': { probe: () => ({ server: { name: 'x' } }), bodies: createBodies },
  'GET /servers/:server_id': {},
  'PUT /servers/:server_id': {
    probe: () => ({ server: { name: 'hostile' } }),
    bodies: () => [
      bad('server null', { server: null }), bad('server string', { server: 'x' }), bad('name empty', { server: { name: '' } }), bad('name 7', { server: { name: 7 } }),
      bad('name long', { server: { name: 'x'.repeat(256) } }), bad('name nul', { server: { name: '\u0000' } }), bad('extra', { server: { bogus: 1 } }), bad('top extra', { server: {}, bogus: 1 }),
      bad('accessIPv4', { server: { accessIPv4: 'x' } }), bad('accessIPv6', { server: { accessIPv6: '1.2.3.4' } }), bad('diskConfig', { server: { 'OS-DCF:diskConfig': 'x' } }),
      bad('description before 2.19', { server: { description: 'd' } }, '2.18'), bad('description 7', { server: { description: 7 } }, '2.19'),
      bad('description long', { server: { description: 'x'.repeat(256) } }, '2.19'), bad('hostname before 2.90', { server: { hostname: 'h' } }, '2.89'),
      bad('hostname bad', { server: { hostname: '-h' } }, '2.90'), bad('deep name', `{"server": {"name": ${DEEP}}}`), bad('deep extra', `{"server": {"bogus": ${DEEP_OBJ}}}`),
    ],
  },
  'DELETE /servers/:server_id': {},
  'GET /servers/:server_id/metadata': {},
  'POST /servers/:server_id/metadata': { probe: () => ({ metadata: { k: 'v' } }), bodies: () => metadataBodies('metadata') },
  'PUT /servers/:server_id/metadata': { probe: () => ({ metadata: { k: 'v' } }), bodies: () => metadataBodies('metadata') },
  'GET /servers/:server_id/metadata/:key': {},
  'PUT /servers/:server_id/metadata/:key': {
    probe: (p) => ({ meta: { [safeDecode(p.key!)]: 'v' } }),
    bodies: () => [...metadataBodies('meta'), bad('two items', { meta: { k: 'v', j: 'w' } }), bad('empty', { meta: {} }), bad('other key', { meta: { j: 'v' } })],
  },
  'DELETE /servers/:server_id/metadata/:key': {},
  'GET /servers/:server_id/ips': {},
  'GET /servers/:server_id/ips/:network': {},
  'GET /servers/:server_id/os-instance-actions': {},
  'GET /servers/:server_id/os-instance-actions/:request_id': {},
  'POST /servers/:server_id/action': { probe: () => ({ 'os-getConsoleOutput': { length: 1 } }), bodies: actionBodies },
  'GET /servers/:server_id/os-interface': {},
  'POST /servers/:server_id/os-interface': {
    probe: () => ({ interfaceAttachment: { port_id: randomUUID() } }),
    lenient: ['empty', 'null', 'empty object'],
    bodies: () => [
      bad('attachment null', { interfaceAttachment: null }), bad('attachment string', { interfaceAttachment: 'x' }), bad('net_id x', { interfaceAttachment: { net_id: 'x' } }),
      bad('port_id x', { interfaceAttachment: { port_id: 'x' } }), bad('port_id 7', { interfaceAttachment: { port_id: 7 } }),
      bad('unknown port', { interfaceAttachment: { port_id: randomUUID() } }), bad('unknown net', { interfaceAttachment: { net_id: randomUUID() } }),
      bad('both', { interfaceAttachment: { net_id: ids.net, port_id: ids.port } }), bad('port in use', { interfaceAttachment: { port_id: ids.port } }),
      bad('ip without net', { interfaceAttachment: { fixed_ips: [{ ip_address: '10.0.0.77' }] } }),
      bad('ip x', { interfaceAttachment: { net_id: ids.net, fixed_ips: [{ ip_address: 'x' }] } }), bad('ip 999', { interfaceAttachment: { net_id: ids.net, fixed_ips: [{ ip_address: '10.0.0.999' }] } }),
      bad('ip off the subnet', { interfaceAttachment: { net_id: ids.net, fixed_ips: [{ ip_address: '192.168.250.7' }] } }),
      bad('two ips', { interfaceAttachment: { net_id: ids.net, fixed_ips: [{ ip_address: '10.0.0.77' }, { ip_address: '10.0.0.78' }] } }),
      bad('fixed_ips empty', { interfaceAttachment: { net_id: ids.net, fixed_ips: [] } }), bad('fixed_ips extra', { interfaceAttachment: { net_id: ids.net, fixed_ips: [{ ip_address: '10.0.0.77', x: 1 }] } }),
      bad('tag before 2.49', { interfaceAttachment: { net_id: ids.net, tag: 't' } }, '2.48'), bad('tag bad', { interfaceAttachment: { net_id: ids.net, tag: 'a/b' } }, '2.49'),
      bad('extra', { interfaceAttachment: { bogus: 1 } }), bad('top extra', { interfaceAttachment: {}, bogus: 1 }), bad('deep', `{"interfaceAttachment": {"net_id": ${DEEP}}}`),
    ],
  },
  'GET /servers/:server_id/os-interface/:port_id': {},
  'DELETE /servers/:server_id/os-interface/:port_id': {},
  'GET /os-server-groups': { queries: () => groupQueries() },
  'GET /os-server-groups/:id': {},
  'POST /os-server-groups': {
    probe: () => ({ server_group: { name: 'x' } }),
    bodies: () => [
      bad('group null', { server_group: null }), bad('group string', { server_group: 'x' }), bad('no policies', { server_group: { name: 'g' } }),
      bad('policies bogus', { server_group: { name: 'g', policies: ['bogus'] } }), bad('policies string', { server_group: { name: 'g', policies: 'affinity' } }),
      bad('two policies', { server_group: { name: 'g', policies: ['affinity', 'anti-affinity'] } }), bad('no policy', { server_group: { name: 'g', policies: [] } }),
      bad('soft before 2.15', { server_group: { name: 'g', policies: ['soft-affinity'] } }), bad('name empty', { server_group: { name: '', policies: ['affinity'] } }),
      bad('name 7', { server_group: { name: 7, policies: ['affinity'] } }), bad('name long', { server_group: { name: 'x'.repeat(256), policies: ['affinity'] } }),
      bad('name lead space', { server_group: { name: ' g', policies: ['affinity'] } }), bad('extra', { server_group: { name: 'g', policies: ['affinity'], bogus: 1 } }),
      bad('top extra', { server_group: { name: 'g', policies: ['affinity'] }, bogus: 1 }),
      bad('policies at 2.64', { server_group: { name: 'g', policies: ['affinity'] } }, '2.64'), bad('policy bogus', { server_group: { name: 'g', policy: 'bogus' } }, '2.64'),
      bad('rules on affinity', { server_group: { name: 'g', policy: 'affinity', rules: { max_server_per_host: 2 } } }, '2.64'),
      bad('rules -1', { server_group: { name: 'g', policy: 'anti-affinity', rules: { max_server_per_host: -1 } } }, '2.64'),
      bad('rules x', { server_group: { name: 'g', policy: 'anti-affinity', rules: { max_server_per_host: 'x' } } }, '2.64'),
      bad('rules 0', { server_group: { name: 'g', policy: 'anti-affinity', rules: { max_server_per_host: 0 } } }, '2.64'),
      bad('rules extra', { server_group: { name: 'g', policy: 'anti-affinity', rules: { bogus: 1 } } }, '2.64'),
      bad('rules string', { server_group: { name: 'g', policy: 'anti-affinity', rules: 'x' } }, '2.64'),
      bad('deep name', `{"server_group": {"name": ${DEEP}, "policies": ["affinity"]}}`),
    ],
  },
  'DELETE /os-server-groups/:id': {},
  'GET /servers/:server_id/tags': {},
  'PUT /servers/:server_id/tags': {
    probe: () => ({ tags: ['blue'] }),
    bodies: () => [
      bad('tags null', { tags: null }, '2.26'), bad('tags string', { tags: 'x' }, '2.26'), bad('tags 7', { tags: [7] }, '2.26'), bad('tag comma', { tags: ['a,b'] }, '2.26'),
      bad('tag slash', { tags: ['a/b'] }, '2.26'), bad('tag empty', { tags: [''] }, '2.26'), bad('tag long', { tags: ['t'.repeat(61)] }, '2.26'),
      bad('51 tags', { tags: Array.from({ length: 51 }, (_, i) => `t${i}`) }, '2.26'), bad('extra', { tags: [], bogus: 1 }, '2.26'), bad('before 2.26', { tags: ['a'] }, '2.25'),
      bad('deep', `{"tags": ${DEEP}}`, '2.26'),
    ],
  },
  'DELETE /servers/:server_id/tags': {},
  'GET /servers/:server_id/tags/:tag': {},
  'PUT /servers/:server_id/tags/:tag': { lenient: ['empty', 'null'] },
  'DELETE /servers/:server_id/tags/:tag': {},
  'GET /os-simple-tenant-usage': { queries: () => usageQueries() },
  'GET /os-simple-tenant-usage/:tenant_id': { queries: () => usageQueries() },
  'GET /servers/:server_id/os-server-password': {},
  'DELETE /servers/:server_id/os-server-password': {},
  // os-consoles: gone (410) for every input, as in Nova.
  'GET /servers/:server_id/consoles': {},
  'POST /servers/:server_id/consoles': {},
  'GET /servers/:server_id/consoles/:console_id': {},
  'DELETE /servers/:server_id/consoles/:console_id': {},
  'GET /os-instance_usage_audit_log': {},
  'GET /os-instance_usage_audit_log/:before': {},
  'GET /servers/:server_id/diagnostics': {},
  'GET /servers/:server_id/os-security-groups': {},
  'GET /os-hosts': { queries: () => ['?zone=%00', '?zone=' + 'z'.repeat(300), '?zone=a&zone=b', '?service=%00', '?colour=red', '?__proto__=1'] },
  'GET /os-hosts/:host_name': {},
  'PUT /os-hosts/:host_name': {
    probe: () => ({ status: 'enable' }),
    bodies: () => [
      bad('status bogus', { status: 'bogus' }, '2.1'), bad('maintenance 7', { maintenance_mode: 7 }, '2.1'), bad('extra', { status: 'enable', bogus: 1 }, '2.1'),
      bad('status null', { status: null }, '2.1'), bad('deep', `{"status": ${DEEP}}`, '2.1'), bad('real change (not supported)', { status: 'disable' }, '2.1'),
      bad('after 2.43', { status: 'enable' }, '2.43'),
    ],
  },
  'GET /os-hosts/:host_name/startup': {},
  'GET /os-hosts/:host_name/shutdown': {},
  'GET /os-hosts/:host_name/reboot': {},
  'GET /os-migrations': {
    queries: () => ['?limit=-1', '?limit=x', '?limit=1&limit=2', '?marker=nope', '?changes-since=yesterday', '?changes-since=0', '?changes-before=%00',
      '?changes-since=2030-01-01T00:00:00&changes-before=2020-01-01T00:00:00', '?hidden=maybe', '?status=%00', '?host=' + 'h'.repeat(300), '?instance_uuid=nope',
      '?migration_type=bogus', '?user_id=%00&project_id=%00', '?colour=red', '?__proto__=1'],
  },
  'POST /os-server-external-events': {
    probe: () => ({ events: [{ name: 'network-changed', server_uuid: randomUUID() }] }),
    bodies: () => [
      bad('events empty', { events: [] }), bad('events string', { events: 'x' }), bad('event empty', { events: [{}] }), bad('event null', { events: [null] }),
      bad('name bogus', { events: [{ name: 'bogus', server_uuid: randomUUID() }] }), bad('uuid x', { events: [{ name: 'network-changed', server_uuid: 'x' }] }),
      bad('status bogus', { events: [{ name: 'network-changed', server_uuid: randomUUID(), status: 'bogus' }] }),
      bad('tag long', { events: [{ name: 'network-changed', server_uuid: randomUUID(), tag: 'x'.repeat(256) }] }),
      bad('extra', { events: [{ name: 'network-changed', server_uuid: randomUUID(), bogus: 1 }] }), bad('top extra', { events: [{ name: 'network-changed', server_uuid: randomUUID() }], bogus: 1 }),
      bad('volume-extended before 2.51', { events: [{ name: 'volume-extended', server_uuid: randomUUID(), tag: 'v' }] }, '2.50'),
      bad('power-update before 2.76', { events: [{ name: 'power-update', server_uuid: randomUUID(), tag: 'POWER_ON' }] }, '2.75'),
      bad('deep', `{"events": [{"name": "network-changed", "server_uuid": ${DEEP}}]}`),
    ],
  },
};

function metadataBodies(key: 'metadata' | 'meta'): Body[] {
  return [
    bad(`${key} null`, { [key]: null }), bad(`${key} array`, { [key]: [] }), bad(`${key} string`, { [key]: 'x' }), bad('value 7', { [key]: { k: 7 } }),
    bad('value null', { [key]: { k: null } }), bad('value object', { [key]: { k: { a: 1 } } }), bad('key long', { [key]: { ['k'.repeat(256)]: 'v' } }),
    bad('key empty', { [key]: { '': 'v' } }), bad('key slash', { [key]: { 'a/b': 'v' } }), bad('key unicode', { [key]: { 'ключ': 'v' } }),
    bad('value long', { [key]: { k: 'v'.repeat(256) } }), bad('extra', { [key]: { k: 'v' }, bogus: 1 }), bad('deep', `{"${key}": {"k": ${DEEP}}}`),
    ...(key === 'metadata' ? [bad('over quota', { metadata: many(129) })] : []),
  ];
}

function serverQueries(): string[] {
  return [
    '?limit=-1', '?limit=abc', '?limit=1.5', '?limit=', '?limit=99999999999999999999', '?limit=1&limit=x', '?marker=nope', `?marker=${ids.theirs}`, '?marker=', '?marker=%00',
    '?changes-since=yesterday', '?changes-since=2024-13-45T99:99:99', '?changes-since=', '?changes-since=2024-01-01T00:00:00%2B99:99', '?changes-since=%00',
    '?changes-since=2024-01-01T00:00:00&changes-since=garbage', '?changes-since=99999-01-01', '?changes-since=-1', '?changes-since=0',
    '?sort_key=__proto__', '?sort_key=body', '?sort_key=display_name%3Bdrop', '?sort_dir=sideways', '?sort_key=display_name&sort_dir=asc&sort_dir=desc&sort_key=uuid&sort_key=x',
    '?all_tenants=maybe', '?all_tenants=1', '?all_tenants', '?all_tenants=1&project_id=%00', '?tenant_id=' + 'x'.repeat(300), '?deleted=true', '?deleted=maybe',
    '?name=(', '?name=a%7B99999999%7D', '?name=%5B', '?name=%00', '?name=' + '('.repeat(500), '?ip=[', '?ip6=(', '?ip=' + '\\'.repeat(3),
    '?status=BOGUS', '?status=', '?status=active&status=bogus', '?flavor=%00', '?flavor=../../x', '?image=x'.repeat(2), '?host=%00', '?node=x', '?user_id=%00',
    '?tags=' + ','.repeat(100), '?tags=a&tags=b', '?not-tags-any=x', '?tags-any=', '?locked=maybe', '?availability_zone=%00', '?key_name=' + 'k'.repeat(300),
    '?reservation_id=%27', '?__proto__=1', '?constructor=x&toString=y', '?colour=red', '?%00=1', '?limit=0',
  ];
}
function groupQueries(): string[] {
  return ['?limit=-1', '?limit=abc', '?limit=99999999999999999999', '?offset=-1', '?offset=x', '?offset=99999999999999999999', '?all_projects=maybe', '?all_projects',
    '?limit=1&limit=x', '?colour=red', '?__proto__=1', '?limit=0&offset=0'];
}
function usageQueries(): string[] {
  return ['?start=yesterday', '?end=2024-02-30T00:00:00', '?start=2030-01-01T00:00:00&end=2020-01-01T00:00:00', '?start=0000-00-00T00:00:00', '?start=0001-01-01T00:00:00',
    '?start=2024-01-01T00:00:00.9999999', '?start=' + '9'.repeat(300), '?start=2024-01-01T00:00:00&start=bogus', '?end=', '?detailed=maybe', '?detailed=1&detailed=0',
    '?limit=-1', '?limit=x', '?marker=nope', `?marker=${ids.server}`, '?limit=99999999999999999999', '?colour=red', '?start=%00', '?end=2024-01-01 00:00:00'];
}

/** Queries Nova refuses (400; 403 for what the caller may not ask). */
function queryMustFail(route: string, q: string, who: Who, version: string | undefined): boolean {
  const strict = version !== undefined && Number(version.split('.')[1]) >= 75;
  if (route === 'GET /servers' || route === 'GET /servers/detail') {
    return ['?limit=-1', '?limit=abc', '?limit=1.5', '?limit=', '?limit=1&limit=x', '?marker=nope', '?marker=%00', '?changes-since=yesterday', '?changes-since=2024-13-45T99:99:99',
      '?changes-since=', '?changes-since=2024-01-01T00:00:00%2B99:99', '?changes-since=%00', '?changes-since=2024-01-01T00:00:00&changes-since=garbage',
      '?changes-since=99999-01-01', '?changes-since=-1', '?changes-since=0', '?sort_dir=sideways'].includes(q) || (q === '?all_tenants=1' && who === 'demo');
  }
  if (route === 'GET /os-server-groups') {
    return ['?limit=-1', '?limit=abc', '?offset=-1', '?offset=x', '?limit=1&limit=x'].includes(q) || (strict && ['?colour=red'].includes(q));
  }
  if (route === 'GET /os-migrations') {
    if (who === 'demo') return true;
    const paged = version !== undefined && Number(version.split('.')[1]) >= 59;
    return ['?hidden=maybe'].includes(q) || (paged && ['?limit=-1', '?limit=x', '?limit=1&limit=2', '?marker=nope', '?changes-since=yesterday', '?changes-since=0',
      '?changes-before=%00', '?changes-since=2030-01-01T00:00:00&changes-before=2020-01-01T00:00:00', '?colour=red'].includes(q));
  }
  if (route === 'GET /os-hosts') return who === 'demo' || (version !== undefined && Number(version.split('.')[1]) >= 43);
  if (route.startsWith('GET /os-simple-tenant-usage')) {
    if (route === 'GET /os-simple-tenant-usage' && who === 'demo') return true;
    const paged = version !== undefined && Number(version.split('.')[1]) >= 40;
    return ['?start=yesterday', '?end=2024-02-30T00:00:00', '?start=2030-01-01T00:00:00&end=2020-01-01T00:00:00', '?start=0000-00-00T00:00:00',
      '?start=2024-01-01T00:00:00.9999999', '?start=' + '9'.repeat(300), '?start=%00', '?end=2024-01-01 00:00:00'].includes(q)
      || (paged && ['?limit=-1', '?limit=x', '?marker=nope'].includes(q)) || (strict && q === '?colour=red');
  }
  return false;
}

function safeDecode(s: string): string {
  try { return decodeURIComponent(s); } catch { return s; }
}

/** Microversion headers Nova refuses: 400 malformed, 406 out of range. */
const BAD_VERSIONS: readonly [string, Record<string, string>][] = [
  ['3.0', { 'openstack-api-version': 'compute 3.0' }], ['2.999', { 'openstack-api-version': 'compute 2.999' }], ['1.1', { 'openstack-api-version': 'compute 1.1' }],
  ['2.0', { 'openstack-api-version': 'compute 2.0' }], ['abc', { 'openstack-api-version': 'compute abc' }], ['2.', { 'openstack-api-version': 'compute 2.' }],
  ['2.1.1', { 'openstack-api-version': 'compute 2.1.1' }], ['-2.5', { 'openstack-api-version': 'compute -2.5' }], ['huge', { 'openstack-api-version': `compute 2.${'9'.repeat(400)}` }],
  ['two', { 'openstack-api-version': 'compute 2.5, compute 2.999' }], ['legacy junk', { 'x-openstack-nova-api-version': 'junk' }],
  ['legacy 9.9', { 'x-openstack-nova-api-version': '9.9' }], ['unicode', { 'openstack-api-version': 'compute 2.\u0661' }],
];
/** Headers that are odd but not wrong (answered normally). */
const ODD_HEADERS: readonly [string, Record<string, string>][] = [
  ['no version', { 'openstack-api-version': 'compute' }], ['other service', { 'openstack-api-version': 'volume 3.0' }], ['latest', { 'openstack-api-version': 'compute latest' }],
  ['accept xml', { accept: 'application/xml' }], ['long token', { 'x-auth-token': 'x'.repeat(8000) }],
];
const CONTENT_TYPES = ['text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/json; charset=latin1', 'application/x-www-form-urlencoded', 'application/json; charset=utf-16'];

// ---------------------------------------------------------------- the walk

test('every servers route answers hostile input with a 4xx in Nova form, never a 5xx; refused calls change nothing', { timeout: 600_000 }, async (t) => {
  const t0 = Date.now();
  const app = c.h.cloud.compute.app;
  const routes = [...new Set(routesOf(app)
    .filter((r) => r.url.startsWith('/v2.1/') && !r.url.startsWith('/v2.1/:project_id') && !FOUNDATION.test(r.url) && !PROXIES.test(r.url) && r.method !== 'HEAD' && r.method !== 'OPTIONS')
    .map((r) => `${r.method} ${r.url.slice('/v2.1'.length)}`))].sort();
  assert.ok(routes.length >= 30, `expected the whole servers part, got ${routes.length} routes: ${routes.join(', ')}`);
  // Every route of the servers part has its case here, and every case is a route (a new route fails this test until it is walked).
  assert.deepEqual(routes.filter((r) => !ROUTE_CASES[r]), [], 'servers routes without hostile cases');
  assert.deepEqual(Object.keys(ROUTE_CASES).filter((r) => !routes.includes(r)), [], 'cases for routes that do not exist');

  const failures: string[] = [];
  const statuses = new Map<number, number>();
  const covered = new Map<string, number>();
  let calls = 0;
  let state = await snapshot();
  let written = await writes();

  const check = async (route: string, r: Request) => {
    calls++;
    covered.set(route, (covered.get(route) ?? 0) + 1);
    const res = await send(r);
    statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
    if (process.env.HOSTILE_TRACE) process.stderr.write(`${res.statusCode} ${r.method} ${r.url.slice(0, 120)} [${r.label.slice(0, 60)}] ${r.who} ${r.version ?? '-'}\n`);
    const where = `${r.method} ${r.url.slice(0, 100)} [${r.label.slice(0, 80)}] v=${r.version ?? '-'} as=${r.who}`;
    if (res.statusCode >= 500 && res.statusCode !== 501) failures.push(`${res.statusCode} ${where}: ${res.body.slice(0, 200)}`);
    if (res.statusCode >= 400) {
      let parsed: any;
      try { parsed = JSON.parse(res.body); } catch { /* checked below */ }
      const name = parsed && typeof parsed === 'object' && Object.keys(parsed).length === 1 ? Object.keys(parsed)[0] : undefined;
      const nova = name !== undefined && parsed[name]?.code === res.statusCode && typeof parsed[name].message === 'string' && parsed[name].message.length > 0;
      if (!nova) failures.push(`bad fault body (${res.statusCode}) ${where}: ${res.body.slice(0, 160)}`);
      if (res.statusCode === 501 && !/not|no /i.test(parsed?.[name!]?.message ?? '')) failures.push(`501 without a reason ${where}`);
    } else if (r.reject) {
      failures.push(`accepted (${res.statusCode}) ${where}: ${res.body.slice(0, 120)}`);
    }
    await c.h.cloud.servers!.idle();
    const w = await writes();
    if (w === written) return;
    if (res.statusCode < 400) {
      // Accepted and wrote: let it finish and put the server back.
      await settle();
      state = await snapshot();
      written = await writes();
      return;
    }
    written = w;
    const now = await snapshot();
    if (now !== state) {
      const before = state.split('\n');
      const diff = now.split('\n').filter((l) => !before.includes(l)).map((l) => l.slice(0, 300));
      failures.push(`state changed by a refused call (${res.statusCode}) ${where}: ${diff.join(' ; ')}`);
    }
    state = now;
  };

  for (const route of routes) {
    const [method, path] = route.split(' ') as [string, string];
    const rc = ROUTE_CASES[route]!;
    const writing = method === 'POST' || method === 'PUT';
    const names = [...path.matchAll(/:([A-Za-z_]+)/g)].map((m) => m[1]!);
    const realIds = new Set([ids.server, ids.theirs, ids.group, ids.port, ids.host, 'k', 'blue'].map((x) => x.toLowerCase()));
    const fill = (p: Record<string, string>) => path.replace(/:([A-Za-z_]+)/g, (_, n: string) => p[n]!);
    const probeOf = (p: Record<string, string>): string | undefined => (rc.probe ? J(rc.probe(p)) : undefined);
    const good = goodParams();
    const tagVersion = path.includes('/tags') ? '2.26' : undefined;

    // 1. Hostile values in each path parameter, the others real; as admin and member, at 2.1 (2.26 for tags) and 2.90; then without or with a bogus token.
    // A value that names nothing must be refused (but for the parameters where any name is fine to take).
    const real = (n: string, v: string) => realIds.has(safeDecode(v).toLowerCase()) || safeDecode(v).toLowerCase() === good[n]!.toLowerCase();
    const variants: [string | undefined, Record<string, string>][] = names.length ? names.flatMap((n) => hostileValues().map((v) => [n, { ...good, [n]: v }] as [string, Record<string, string>])) : [[undefined, good]];
    for (const [n, p] of variants) {
      // A real delete of a real object is not a refusal (ids differing only in case name the same object).
      if (method === 'DELETE' && names.every((k) => real(k, p[k]!))) continue;
      const reject = n !== undefined && !real(n, p[n]!) && !FREE_PARAMS.has(`${route} ${n}`);
      const url = `/v2.1${fill(p)}`;
      for (const who of ['admin', 'demo'] as const) {
        for (const version of [tagVersion, '2.90']) await check(route, { method, url, who, version, body: writing ? probeOf(p) : undefined, reject, label: `ids ${n}=${p[n ?? ''] ?? ''}`.slice(0, 80) });
      }
    }
    if (route === 'POST /servers/:server_id/action') {
      // forceDelete takes no body: whatever it is, on what the caller cannot see or what does not exist, it must be refused (on the test server it would delete it).
      for (const b of ['null', '{}', '"x"', DEEP, '{"bogus": 1}']) {
        await check(route, { method, url: `/v2.1/servers/${ids.theirs}/action`, who: 'demo', body: `{"forceDelete": ${b}}`, reject: true, label: 'forceDelete, not theirs to see' });
        await check(route, { method, url: `/v2.1/servers/${randomUUID()}/action`, who: 'admin', body: `{"forceDelete": ${b}}`, reject: true, label: 'forceDelete, no such server' });
      }
    }
    const realUrl = `/v2.1${fill(good)}`;
    // DELETE's header and token probes go to an object that does not exist (the real one would be deleted).
    const safeUrl = method === 'DELETE' ? `/v2.1${fill(Object.fromEntries(names.map((n) => [n, randomUUID()])))}` : realUrl;
    for (const who of ['none', 'bad'] as const) await check(route, { method, url: safeUrl, who, body: writing ? probeOf(good) : undefined, reject: true, label: 'token' });

    // 2. The project-id and legacy URL forms.
    await check(route, { method, url: `/v2.1/not-my-project${fill(good)}`, who: 'demo', body: writing ? probeOf(good) : undefined, reject: true, label: 'wrong project in URL' });
    await check(route, { method, url: `/v2.1/${'%00'.repeat(3)}${fill(good)}`, who: 'demo', body: writing ? probeOf(good) : undefined, reject: true, label: 'NUL project in URL' });
    await check(route, { method, url: `/v2.1/${c.demoProject}${safeUrl.slice('/v2.1'.length)}`, who: 'demo', body: writing ? probeOf(good) : undefined, label: 'project form' });
    await check(route, { method, url: `/v2${safeUrl.slice('/v2.1'.length)}`, who: 'demo', body: writing ? probeOf(good) : undefined, label: 'legacy /v2' });
    await check(route, { method: 'PATCH', url: safeUrl, who: 'demo', body: '{}', reject: true, label: 'PATCH' });

    // 3. Headers: microversions Nova refuses, odd ones it answers, content types it does not expect.
    for (const [label, headers] of BAD_VERSIONS) await check(route, { method, url: safeUrl, who: 'admin', headers, body: writing ? probeOf(good) : undefined, reject: true, label: `version ${label}` });
    if (method === 'GET') for (const [label, headers] of ODD_HEADERS) await check(route, { method, url: realUrl, who: 'demo', headers, label });
    if (writing) {
      const invalid = rc.bodies?.()[0]?.body ?? '{"bogus": 1}';
      for (const ct of CONTENT_TYPES) {
        await check(route, { method, url: realUrl, who: 'demo', version: tagVersion, headers: { 'content-type': ct }, body: invalid, reject: true, label: `content-type ${ct}, invalid body` });
        await check(route, { method, url: realUrl, who: 'demo', version: tagVersion, headers: { 'content-type': ct }, body: probeOf(good), label: `content-type ${ct}, probe` });
      }
    }

    // 4. Queries.
    for (const q of rc.queries?.() ?? []) {
      for (const [who, version] of [['admin', undefined], ['admin', '2.90'], ['demo', undefined], ['demo', '2.90']] as const) {
        const reject = queryMustFail(route, q, who, version);
        await check(route, { method, url: `${realUrl}${q}`, who, version, reject, label: `query ${q.slice(0, 60)}` });
      }
    }

    // 5. Bodies, on the real object.
    if (writing) {
      const lenient = new Set(rc.lenient ?? []);
      const bodies = [...genericBodies().map((b) => (lenient.has(b.label) ? { ...b, reject: false } : b)), ...(rc.bodies?.() ?? [])];
      for (const b of bodies) {
        const plan: [Who, string | undefined][] = b.version
          ? (b.who ?? ['admin', 'demo']).map((w) => [w, b.version])
          : (b.who ?? ['admin', 'demo']).map((w) => [w, w === 'admin' ? '2.90' : tagVersion]);
        for (const [who, version] of plan) await check(route, { method, url: realUrl, who, version, body: b.body, reject: b.reject, label: `body ${b.label}` });
      }
    }
  }

  const missing = routes.filter((r) => !covered.get(r));
  assert.deepEqual(missing, [], 'routes the walk did not call');
  t.diagnostic(`${calls} hostile calls over ${routes.length} routes in ${Math.round((Date.now() - t0) / 1000)} s; statuses ${J(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`);
  if (process.env.HOSTILE_TRACE) process.stderr.write(`FAILURES\n${failures.join('\n')}\n`);
  assert.deepEqual(failures.slice(0, 60), [], `${failures.length} failures`);
});
