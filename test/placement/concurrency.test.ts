// Claims racing for the same capacity, over real HTTP with real concurrent transactions (a pool of
// connections on PostgreSQL and MariaDB, the single serialised connection on SQLite): whatever
// the interleaving, exactly as many claims win as fit, and usage never exceeds capacity.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';
import { testOnSharedEngines } from '../lib/databases.js';
import { placementCaller } from './lib.js';

async function races(h: IdentityHarness): Promise<void> {
  const call = placementCaller(h.placementUrl, () => h.adminToken());
  const host = async (vcpus: number) => {
    const rp = await call('POST', '/resource_providers', { body: { name: `race-${randomUUID()}` }, version: '1.39' });
    assert.equal(rp.status, 200, rp.text);
    const inv = await call('PUT', `/resource_providers/${rp.json.uuid}/inventories`, { body: { resource_provider_generation: 0, inventories: { VCPU: { total: vcpus }, MEMORY_MB: { total: 8192 } } }, version: '1.39' });
    assert.equal(inv.status, 200, inv.text);
    return rp.json.uuid as string;
  };
  const claim = (rp: string, vcpus: number) => call('PUT', `/allocations/${randomUUID()}`, {
    body: { allocations: { [rp]: { resources: { VCPU: vcpus, MEMORY_MB: 64 } } }, project_id: 'p', user_id: 'u', consumer_generation: null, consumer_type: 'INSTANCE' },
    version: '1.39',
  });
  const usage = async (rp: string) => (await call('GET', `/resource_providers/${rp}/usages`)).json.usages.VCPU as number;

  // Two claims that together exceed capacity: exactly one wins, every round.
  for (let round = 0; round < 8; round++) {
    const rp = await host(4);
    const results = await Promise.all([claim(rp, 3), claim(rp, 3)]);
    const statuses = results.map((r) => r.status).sort();
    assert.deepEqual(statuses, [204, 409], results.map((r) => r.text).join(' | '));
    const loser = results.find((r) => r.status === 409)!;
    assert.match(loser.json.errors[0].detail, /would exceed the capacity/);
    assert.equal(await usage(rp), 3);
  }

  // Many small claims for a host with room for eight: exactly eight win.
  const rp = await host(8);
  const many = await Promise.all(Array.from({ length: 24 }, () => claim(rp, 1)));
  assert.equal(many.filter((r) => r.status === 204).length, 8, many.filter((r) => r.status !== 204 && r.status !== 409).map((r) => r.text).join(' | '));
  assert.equal(many.filter((r) => r.status === 409).length, 16);
  assert.equal(await usage(rp), 8);
  const byRp = await call('GET', `/resource_providers/${rp}/allocations`, { version: '1.39' });
  assert.equal(Object.keys(byRp.json.allocations).length, 8);

  // Writers taking two hosts in opposite orders (a move's POST /allocations) never deadlock for
  // good nor lose an update: the usage is the sum of the winners.
  const a = await host(6);
  const b = await host(6);
  const move = (from: string, to: string) => call('POST', '/allocations', {
    body: {
      [randomUUID()]: { allocations: { [from]: { resources: { VCPU: 1 } }, [to]: { resources: { VCPU: 1 } } }, project_id: 'p', user_id: 'u', consumer_generation: null, consumer_type: 'MIGRATION' },
    },
    version: '1.39',
  });
  const moves = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? move(a, b) : move(b, a))));
  const won = moves.filter((r) => r.status === 204).length;
  assert.equal(won, 6, moves.map((r) => `${r.status}`).join(','));
  assert.equal(await usage(a), 6);
  assert.equal(await usage(b), 6);

  // A provider's consumers racing with its deletion: either the delete or the claims win, never both.
  const doomed = await host(4);
  const [del, c1] = await Promise.all([call('DELETE', `/resource_providers/${doomed}`), claim(doomed, 1)]);
  if (del.status === 204) {
    assert.notEqual(c1.status, 204, 'a claim succeeded on a deleted provider');
    assert.equal((await call('GET', `/resource_providers/${doomed}`)).status, 404);
  } else {
    assert.equal(del.status, 409, del.text);
    assert.equal(c1.status, 204, c1.text);
    assert.equal(await usage(doomed), 1);
  }
}

test('SQLite: racing claims never overcommit; exactly the ones that fit win', async () => {
  const h = await startIdentity();
  try { await races(h); } finally { await h.close(); }
});

testOnSharedEngines((engine) => `${engine}: racing claims never overcommit; exactly the ones that fit win`, races);
