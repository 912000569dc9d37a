// The agent ↔ server contract over the (in-process) bus: a remote agent's three calls reach the
// server's real functions on a real (SQLite, in memory) network database, malformed calls are
// refused by name, and a burst of changes reaches every agent as one `changed` fanout.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Kysely } from 'kysely';
import { loadConfig } from '../../platform/config/config.js';
import { openDatabase, type Database } from '../../platform/db/connect.js';
import { silentLogger } from '../../platform/log.js';
import { BusRemoteError, InProcessBroker, InProcessBus, type Bus } from '../../platform/bus/index.js';
import { NetworkContext } from '../context.js';
import { migrateNetwork } from '../service.js';
import type { NetworkDB } from '../store/schema.js';
import { findObjs } from '../resource/store.js';
import { agentDef } from '../agent-store.js';
import { serveAgentContract, type AgentBusServer } from './bus-server.js';
import { busAgentServer, onNetworkChanged } from './bus-client.js';
import { METHOD, SERVER_TOPIC, type ChangedArgs } from './bus-contract.js';

let database: Database;
let ctx: NetworkContext;
let serverBus: Bus;
let agentBus: Bus;
let served: AgentBusServer;

before(async () => {
  database = await openDatabase('sqlite://:memory:');
  await migrateNetwork(database);
  const cfg = loadConfig({ file: '/dev/null', env: {} });
  ctx = new NetworkContext(database.db as Kysely<NetworkDB>, database.engine, cfg, silentLogger());
  const broker = new InProcessBroker();
  serverBus = new InProcessBus({ broker });
  agentBus = new InProcessBus({ broker });
  served = await serveAgentContract(ctx, serverBus);
});

after(async () => {
  await served.stop();
  await agentBus.close();
  await serverBus.close();
  await database.close();
});

test('a remote agent registers by heartbeat, reads its desired state and reports port status over the bus', async () => {
  const server = busAgentServer(agentBus, { stateTimeoutMs: 5000, reportTimeoutMs: 5000 });
  await server.heartbeat('hostb', { tunneling_ip: '198.51.100.2' }, true);
  const agents = await findObjs(ctx.db, agentDef, { host: 'hostb' });
  assert.deepEqual(agents.map((a) => a.agent_type).sort(), ['DHCP agent', 'L3 agent', 'Linux bridge agent', 'Metadata agent']);
  assert.deepEqual(agents.map((a) => (a.configurations as Record<string, unknown>).tunneling_ip), Array(4).fill('198.51.100.2'));
  const state = await server.desiredState('hostb');
  assert.equal(state.host, 'hostb');
  assert.deepEqual([state.ports, state.dhcp, state.networks], [[], [], []]);
  await server.portStatus([], []);
  await server.floatingIpStatus([], []);
});

test('malformed calls are refused by name, never run', async () => {
  for (const [method, args] of [
    [METHOD.hostState, { host: '../etc' }], [METHOD.hostState, null], [METHOD.portStatus, { active: [1], down: [] }],
    [METHOD.floatingIpStatus, { active: [], down: 'x' }],
    [METHOD.heartbeat, { host: 'h', configurations: [], start_flag: true }], [METHOD.heartbeat, { host: 'h', configurations: {}, start_flag: 'yes' }],
  ] as const) {
    await assert.rejects(agentBus.call(SERVER_TOPIC, method, args, { timeoutMs: 5000 }),
      (e: unknown) => e instanceof BusRemoteError && e.remoteName === 'BadAgentRequest', `${method} ${JSON.stringify(args)}`);
  }
  assert.equal((await findObjs(ctx.db, agentDef, { host: 'h' })).length, 0);
});

test('a burst of changes reaches every agent as one fanout listing them', async () => {
  const got: Record<string, ChangedArgs[]> = { a: [], b: [] };
  const subs = [
    await onNetworkChanged(agentBus, 'hosta', (m) => got.a!.push(m)),
    await onNetworkChanged(agentBus, 'hostb', (m) => got.b!.push(m)),
  ];
  try {
    ctx.changed('port', 'p1');
    ctx.changed('port', 'p2');
    ctx.changed('router', 'r1');
    for (let i = 0; i < 100 && (got.a!.length === 0 || got.b!.length === 0); i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 100));
    const want = [{ changes: [{ kind: 'port', id: 'p1' }, { kind: 'port', id: 'p2' }, { kind: 'router', id: 'r1' }], truncated: false }];
    assert.deepEqual(got.a, want);
    assert.deepEqual(got.b, want);
  } finally {
    for (const s of subs) await s.stop();
  }
});
