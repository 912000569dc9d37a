// Identity writes publish OpenStack-style notifications on the platform bus.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdentity, type IdentityHarness } from '../lib/identity-harness.js';
import type { Notification } from '../../src/platform/bus/index.js';

let h: IdentityHarness;
before(async () => { h = await startIdentity(); });
after(async () => { await h?.close(); });

test('creating and deleting a user emits identity.user.created and identity.user.deleted', async () => {
  const seen: Notification[] = [];
  const sub = await h.cloud.bus.onNotification('identity.user.*', (n) => { seen.push(n); });
  const token = await h.adminToken();
  const u = await h.request('POST', '/v3/users', { token, body: { user: { name: 'notified', domain_id: 'default' } } });
  assert.equal(u.status, 201);
  assert.equal((await h.request('DELETE', `/v3/users/${u.body.user.id}`, { token })).status, 204);
  for (let i = 0; i < 50 && seen.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
  await sub.stop();
  assert.deepEqual(seen.map((n) => n.event_type), ['identity.user.created', 'identity.user.deleted']);
  assert.equal(JSON.stringify(seen[0].payload).includes(u.body.user.id), true);
  assert.equal(seen[0].publisher_id, 'identity');
});
