import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NetworkContext } from './context.js';
import { agentStamp, isAlive } from './agent-store.js';

const ctxWith = (downTime: number) => ({ config: { network: { agent_down_time: downTime } } }) as unknown as NetworkContext;

test('agent times are written as Neutron writes them (UTC, seconds, no zone)', () => {
  assert.equal(agentStamp(new Date('2017-09-12T19:39:56.789Z')), '2017-09-12 19:39:56');
});

test('an agent is alive while its last heartbeat is within agent_down_time', () => {
  const now = Date.parse('2024-01-01T00:01:15Z');
  const agent = (hb: unknown) => ({ id: 'a', heartbeat_timestamp: hb });
  assert.equal(isAlive(ctxWith(75), agent('2024-01-01 00:00:00'), now), true);
  assert.equal(isAlive(ctxWith(74), agent('2024-01-01 00:00:00'), now), false);
  assert.equal(isAlive(ctxWith(75), agent('garbage'), now), false);
  assert.equal(isAlive(ctxWith(75), agent(undefined), now), false);
});
