// The servers list's sort keys and caller regular expressions, over HTTP on a simulated (`fake`)
// compute host: Nova's sort_key rules per microversion (valid, ignored, refused from 2.75,
// admin-only keys dropped for others) and name/ip patterns run in linear time.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeCompute, type FakeCompute } from './fake-compute.js';

let c: FakeCompute;
const names = ['b-two', 'a-one', 'c-three'];
before(async () => {
  c = await startFakeCompute([`fake-${process.pid}-l`]);
  for (const name of names) await c.waitStatus(await c.createServer(c.demo, { name }), 'ACTIVE');
});
after(async () => { await c?.close(); });

const list = async (query: string, version = '2.1'): Promise<string[]> =>
  (await c.api.ok('GET', `/v2.1/servers${query}`, c.demo, undefined, 200, { version })).servers.map((s: { name: string }) => s.name);

test('sort_key: Nova\'s keys sort, ignored ones are ignored (refused from 2.75), unknown ones are refused', async () => {
  assert.deepEqual(await list('?sort_key=display_name&sort_dir=asc'), ['a-one', 'b-two', 'c-three']);
  assert.deepEqual(await list('?sort_key=display_name&sort_dir=desc'), ['c-three', 'b-two', 'a-one']);
  // An ignored key keeps its place in the sort_dir pairing: display_name pairs with the second direction.
  assert.deepEqual(await list('?sort_key=vcpus&sort_dir=asc&sort_key=display_name&sort_dir=desc'), ['c-three', 'b-two', 'a-one']);
  assert.deepEqual(await list('?sort_key=hostname&sort_key=display_name&sort_dir=asc&sort_dir=asc'), ['a-one', 'b-two', 'c-three'], 'a key without a column leaves the order to the next');
  assert.match(await c.api.fault('GET', '/v2.1/servers?sort_key=colour', c.demo, undefined, 400), /sort_key\. Value: colour\. 'colour' is not one of/);
  assert.match(await c.api.fault('GET', '/v2.1/servers?sort_key=vcpus', c.demo, undefined, 400, { version: '2.75' }), /'vcpus' is not one of/);
  // locked: ignored before 2.73, a key from then on (also at 2.75).
  for (const v of ['2.1', '2.73', '2.75']) assert.deepEqual(await list('?sort_key=locked&sort_key=display_name&sort_dir=asc&sort_dir=asc', v), ['a-one', 'b-two', 'c-three'], v);
  // host is an admin's key: a project member's request is served, the key dropped.
  assert.equal((await list('?sort_key=host')).length, 3);
});

test('name and ip filters are regular expressions run in linear time; ones that need backtracking are refused with the reason', async () => {
  assert.deepEqual((await list('?name=^[ab]-&sort_key=display_name&sort_dir=asc')), ['a-one', 'b-two']);
  assert.deepEqual(await list(`?name=${encodeURIComponent('^([a-z]+-?)+$')}&sort_key=display_name&sort_dir=asc`), ['a-one', 'b-two', 'c-three']);
  assert.deepEqual(await list(`?name=${encodeURIComponent('(o|w)$')}&sort_key=display_name&sort_dir=asc`), ['b-two']);
  assert.match(await c.api.fault('GET', `/v2.1/servers?name=${encodeURIComponent('(a)\\1')}`, c.demo, undefined, 400), /Invalid regular expression for name: .*linear time/);
  assert.match(await c.api.fault('GET', `/v2.1/servers?ip=${encodeURIComponent('(?=1)')}`, c.demo, undefined, 400), /Invalid regular expression for ip/);
});

test('Nova actions this cloud does not offer answer 501 with the reason (after the 404 for an unknown server); unknown ones 400', async () => {
  const id = (await c.api.ok('GET', '/v2.1/servers?name=^a-one$', c.demo)).servers[0].id as string;
  const action = (body: unknown, status: number, server = id) => c.api.fault('POST', `/v2.1/servers/${server}/action`, c.demo, body, status);
  assert.match(await action({ changePassword: { adminPass: 'x' } }, 501), /^Action changePassword is not supported: .*guest agent/);
  assert.match(await action({ 'os-getVNCConsole': { type: 'novnc' } }, 501), /consoles are not offered/);
  assert.match(await action({ trigger_crash_dump: null }, 501), /crash dumps/);
  assert.match(await action({ changePassword: { adminPass: 'x' } }, 404, '5c0e7a47-07a1-4cb5-8d0f-8e7b2c6c2f2a'), /could not be found/);
  assert.equal(await action({ fly: {} }, 400), 'There is no such action: fly');
  // os-consoles: listed as Nova lists it, its routes gone as in Nova since Ussuri.
  assert.equal((await c.api.ok('GET', '/v2.1/extensions/os-consoles', c.demo)).extension.name, 'Consoles');
  for (const [m, p] of [['GET', ''], ['POST', ''], ['GET', '/1'], ['DELETE', '/1']] as const) {
    assert.match(await c.api.fault(m, `/v2.1/servers/${id}/consoles${p}`, c.demo, m === 'POST' ? {} : undefined, 410, { name: 'computeFault' }), /no longer available/);
  }
});
