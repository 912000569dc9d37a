// Debian's unmodified `openstack` CLI against two simulated (`fake`) compute hosts: server groups
// (anti-affinity spreads two servers over the two hosts and puts a third in ERROR with a fault
// naming the filter; affinity keeps two on one host), group list/show/delete, server tags
// (set/unset/list filter), usage list/show, and the availability zone list with its hosts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openstack, type CliAuth } from '../lib/openstack-cli.js';
import { startFakeCompute, until, type FakeCompute } from './fake-compute.js';

let c: FakeCompute;
const HOSTS = [`fake-${process.pid}-a`, `fake-${process.pid}-b`];
before(async () => { c = await startFakeCompute(HOSTS); });
after(async () => { await c?.close(); });
/** t1 and t2 of the tags test (the usage test counts them, then deletes them). */
const tagged: string[] = [];

async function run(auth: CliAuth, ...cmd: string[]): Promise<string> {
  const r = await openstack(auth, ...cmd);
  assert.equal(r.code, 0, `openstack ${cmd.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}
const json = async (auth: CliAuth, ...cmd: string[]): Promise<any> => JSON.parse(await run(auth, ...cmd, '-f', 'json'));
/**
 * `server create` of a tiny server in group `group` on private; returns its id once it is ACTIVE
 * (`wait`; polled through the API: the CLI's --wait polls every 5 s on this busy machine).
 */
const boot = async (name: string, group: string, wait = true): Promise<string> => {
  const id = (await json(c.cliDemo, 'server', 'create', '--hint', `group=${group}`, '--flavor', 'm1.nano', '--image', 'tiny', '--network', 'private', name)).id as string;
  if (wait) {
    const s = await c.waitStatus(id, 'ACTIVE', 'ERROR');
    assert.equal(s.status, 'ACTIVE', `${name}: ${JSON.stringify(s.fault)}`);
  }
  return id;
};
/** The host of a server, as admin sees it (OS-EXT-SRV-ATTR:host). */
const hostOf = async (id: string) => (await json(c.cliAdmin, 'server', 'show', id))['OS-EXT-SRV-ATTR:host'] as string;
/** Deletes servers through the API (the CLI's part is tested elsewhere; the CLI is slow here). */
const cleanup = async (token: string, ids: readonly string[]) => { for (const id of ids) await c.deleteServer(token, id); };

test('server group create --policy anti-affinity: two servers on two hosts, the third in ERROR naming the anti-affinity filter; affinity keeps two together', { timeout: 600_000 }, async () => {
  const g = await json(c.cliDemo, 'server', 'group', 'create', '--policy', 'anti-affinity', 'g');
  assert.equal(g.name, 'g');
  assert.match(JSON.stringify(g), /anti-affinity/);
  const s1 = await boot('s1', g.id);
  const s2 = await boot('s2', g.id);
  const [h1, h2] = [await hostOf(s1), await hostOf(s2)];
  console.log(`# anti-affinity: s1 on ${h1}, s2 on ${h2}`);
  assert.deepEqual([h1, h2].sort(), [...HOSTS].sort());

  const s3id = await boot('s3', g.id, false);
  const s3 = await until('s3 in ERROR', async () => {
    const s = await json(c.cliDemo, 'server', 'show', s3id);
    return s.status === 'ERROR' ? s : s.status === 'BUILD' ? undefined : assert.fail(`s3 is ${s.status}`);
  });
  const fault = JSON.stringify(s3.fault);
  console.log(`# s3 fault: ${fault}`);
  assert.match(fault, /No valid host was found\..*ServerGroupAntiAffinityFilter/);

  const shown = await json(c.cliDemo, 'server', 'group', 'show', 'g');
  assert.deepEqual([...shown.members].sort(), [s1, s2, s3id].sort(), 'the failed server stays a member until deleted, as in Nova');

  const a = await json(c.cliDemo, 'server', 'group', 'create', '--policy', 'affinity', 'ga');
  const a1id = await boot('a1', a.id);
  const a2id = await boot('a2', a.id);
  const [a1, a2] = [await hostOf(a1id), await hostOf(a2id)];
  console.log(`# affinity: a1 on ${a1}, a2 on ${a2}`);
  assert.equal(a1, a2);

  // List (own; admins all projects), show, delete.
  const list = await json(c.cliDemo, 'server', 'group', 'list', '--long');
  assert.deepEqual(list.map((x: any) => x.Name).sort(), ['g', 'ga']);
  assert.ok(list.every((x: any) => x['Project Id'] === c.demoProject), JSON.stringify(list));
  assert.deepEqual(await json(c.cliAdmin, 'server', 'group', 'list'), []);
  assert.equal((await json(c.cliAdmin, 'server', 'group', 'list', '--all-projects')).length, 2);
  await run(c.cliDemo, 'server', 'delete', '--wait', 's3');
  assert.equal((await json(c.cliDemo, 'server', 'group', 'show', 'g')).members.length, 2, 'a deleted server leaves its group');
  await cleanup(c.demo, [s1, s2, a1id, a2id]);
  await run(c.cliDemo, 'server', 'group', 'delete', 'g', 'ga');
  assert.deepEqual(await json(c.cliDemo, 'server', 'group', 'list'), []);
  // (The CLI fails on a missing group with a Python error of its own; the API's 404 is Nova's.)
  assert.notEqual((await openstack(c.cliDemo, 'server', 'group', 'show', g.id)).code, 0);
  assert.equal(await c.api.fault('GET', `/v2.1/os-server-groups/${g.id}`, c.demo, undefined, 404), `Instance group ${g.id} could not be found.`);
});

test('server tags with the CLI: server set --tag, server list --tags, server unset --tag', { timeout: 300_000 }, async () => {
  const V = ['--os-compute-api-version', '2.26'];
  tagged.push(await c.createServer(c.demo, { name: 't1' }), await c.createServer(c.demo, { name: 't2' }));
  for (const id of tagged) await c.waitStatus(id, 'ACTIVE');
  await run(c.cliDemo, ...V, 'server', 'set', '--tag', 'blue', '--tag', 'green', 't1');
  await run(c.cliDemo, ...V, 'server', 'set', '--tag', 'green', 't2');
  const shown = await json(c.cliDemo, ...V, 'server', 'show', 't1');
  assert.deepEqual([...shown.tags].sort(), ['blue', 'green']);
  assert.deepEqual((await json(c.cliDemo, ...V, 'server', 'list', '--tags', 'blue')).map((s: any) => s.Name), ['t1']);
  assert.deepEqual((await json(c.cliDemo, ...V, 'server', 'list', '--tags', 'green')).map((s: any) => s.Name).sort(), ['t1', 't2']);
  assert.deepEqual((await json(c.cliDemo, ...V, 'server', 'list', '--not-tags', 'blue')).map((s: any) => s.Name), ['t2']);
  await run(c.cliDemo, ...V, 'server', 'unset', '--tag', 'blue', 't1');
  assert.deepEqual((await json(c.cliDemo, ...V, 'server', 'show', 't1')).tags, ['green']);
  assert.deepEqual(await json(c.cliDemo, ...V, 'server', 'list', '--tags', 'blue'), []);
  const bad = await openstack(c.cliDemo, ...V, 'server', 'set', '--tag', 'a,b', 't1');
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /invalid/i);
});

test('usage list and usage show with the CLI count the servers of the period', { timeout: 120_000 }, async () => {
  // t1 and t2 (demo) are running; earlier servers existed too (deleted now, still counted).
  const list = await json(c.cliAdmin, 'usage', 'list');
  console.log(`# usage list: ${JSON.stringify(list.map((r: any) => ({ ...r, Servers: r.Servers.length })))}`);
  const demoRow = list.find((r: any) => r.Project === c.demoProject);
  assert.ok(demoRow, JSON.stringify(list));
  // -f json gives the server usages themselves where the table shows their count.
  const names = demoRow.Servers.map((u: any) => u.name).sort();
  for (const n of ['a1', 'a2', 's1', 's2', 't1', 't2']) assert.ok(names.includes(n), `${n} in ${names}`);
  assert.ok(!names.includes('s3'), 'never launched: not counted');
  const live = demoRow.Servers.filter((u: any) => u.state === 'active').map((u: any) => u.name).sort();
  assert.deepEqual(live, ['t1', 't2']);
  assert.ok(Number(demoRow['CPU Hours']) > 0, JSON.stringify(demoRow));
  assert.ok(Math.abs(demoRow['RAM MB-Hours'] - 128 * demoRow['CPU Hours']) < 1e-6, 'm1.nano: 128 MiB per VCPU');
  const mine = await json(c.cliDemo, 'usage', 'show');
  console.log(`# usage show: ${JSON.stringify({ ...mine, Servers: mine.Servers.length })}`);
  assert.deepEqual(mine.Servers.map((u: any) => u.instance_id).sort(), demoRow.Servers.map((u: any) => u.instance_id).sort());
  // The show rounds to two decimals; it is asked a little later than the list.
  assert.ok(Number(mine['RAM MB-Hours']) >= demoRow['RAM MB-Hours'] - 0.01, `${mine['RAM MB-Hours']} vs ${demoRow['RAM MB-Hours']}`);
  const forbidden = await openstack(c.cliDemo, 'usage', 'list');
  assert.notEqual(forbidden.code, 0);
  assert.match(forbidden.stderr, /403|Policy doesn't allow/);
  await cleanup(c.demo, tagged);
});

test('availability zone list --long shows each fake host\'s nova-compute in zone nova', { timeout: 60_000 }, async () => {
  const zones = await json(c.cliAdmin, 'availability', 'zone', 'list', '--compute', '--long');
  console.log(`# availability zone list --compute --long: ${JSON.stringify(zones)}`);
  for (const host of HOSTS) {
    const row = zones.find((z: any) => z['Host Name'] === host);
    assert.ok(row, `${host} in ${JSON.stringify(zones)}`);
    assert.equal(row['Zone Name'], 'nova');
    assert.equal(row['Zone Status'], 'available');
    assert.equal(row['Service Name'], 'nova-compute');
    assert.match(row['Service Status'], /enabled :-\)/);
  }
  const all = await run(c.cliAdmin, 'availability', 'zone', 'list', '--long');
  for (const host of HOSTS) assert.ok(all.includes(host), all);
});
