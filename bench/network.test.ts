import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bulkBatches, checkNetworkTargets, formatNetworkReport, listStats, parseSizes, subnetFor } from './network.js';
import type { NetworkLoad, NetworkSideResult } from './network.js';
import type { LoadResult } from './lib/load.js';

const load: NetworkLoad = { ports: 200, concurrency: 4, listRuns: 20, sgTrials: 10, maxPhaseMs: 1_000_000, quiet: { maxBusy: 1, maxWaitMs: 0 } };
const run = (rps: number, p50: number): LoadResult => ({ count: 200, errors: 0, rps, p50, p99: p50 * 2, max: p50 * 3 });
const side = (name: string, create: number, list40: number, extra: { size: number; p50: number }[] = []): NetworkSideResult => ({
  name,
  create: run(create, 1000 / create),
  delete: run(create * 2, 500 / create),
  // Server CPU seconds for the 200 creates: 0.2 s per port-per-second of slowness.
  createCpu: { server: 40 / create, client: 0.1, others: 1, available: 4 },
  lists: [{ size: 40, runs: 20, p50: list40, p90: list40, min: list40, bytes: 40_000 }, ...extra.map((e) => ({ ...e, runs: 20, p90: e.p50, min: e.p50, bytes: 1 }))],
  sgNote: '',
  bulkSeconds: 1,
  bulkPorts: 40,
  problems: [],
});

test('subnetFor picks the smallest prefix that holds the ports plus gateway and slack', () => {
  assert.equal(subnetFor(40, '10.64.0.0'), '10.64.0.0/24');
  // A /24 has 253 addresses besides network, broadcast and gateway: 237 ports + 16 slack.
  assert.equal(subnetFor(237, '10.64.0.0'), '10.64.0.0/24');
  assert.equal(subnetFor(238, '10.64.0.0'), '10.64.0.0/23');
  assert.equal(subnetFor(10_000, '10.64.0.0'), '10.64.0.0/18');
  assert.throws(() => subnetFor(5_000_000, '10.64.0.0'), /\/10/);
});

test('parseSizes sorts, dedupes and refuses junk; bulkBatches covers exactly the gap', () => {
  assert.deepEqual(parseSizes('10000, 40,200,40'), [40, 200, 10000]);
  assert.throws(() => parseSizes('40,x'), /bad size/);
  assert.throws(() => parseSizes('0'), /bad size/);
  assert.deepEqual(bulkBatches(40, 200, 50), [50, 50, 50, 10]);
  assert.deepEqual(bulkBatches(200, 200, 50), []);
  assert.deepEqual(bulkBatches(0, 10_000, 500).reduce((a, b) => a + b, 0), 10_000);
});

test('listStats: nearest-rank p50/p90 and the minimum of unsorted timings', () => {
  const s = listStats(40, [9, 1, 8, 2, 7, 3, 6, 4, 5, 10], 123);
  assert.deepEqual(s, { size: 40, runs: 10, p50: 5, p90: 9, min: 1, bytes: 123 });
});

test('checkNetworkTargets: create ratio ≥30x, 40-port list ratio ≥10x, 10,000-port list ≤200 ms', () => {
  const neutron = side('neutron-server', 2.7, 86);
  const good = checkNetworkTargets(side('nephos', 90, 8, [{ size: 10_000, p50: 150 }]), neutron);
  assert.deepEqual(good.map((t) => [t.label, t.pass]), [
    ['port create rate vs neutron-server (x)', true],
    ['port list (40 ports) vs neutron-server (x)', true],
    ['port list of 10000 ports, p50 (ms)', true],
  ]);
  assert.ok(Math.abs(good[0].measured - 90 / 2.7) < 1e-9);
  const bad = checkNetworkTargets(side('nephos', 50, 10, [{ size: 10_000, p50: 250 }]), neutron);
  assert.deepEqual(bad.map((t) => t.pass), [false, false, false]);
  // Without the peer only the absolute bound can be judged.
  assert.deepEqual(checkNetworkTargets(side('nephos', 50, 10, [{ size: 10_000, p50: 100 }]), undefined).map((t) => t.label), ['port list of 10000 ports, p50 (ms)']);
});

test('formatNetworkReport: ratios point the same way for rates and latencies, missing sides show -', () => {
  const report = formatNetworkReport(side('nephos', 90, 4.3), side('neutron-server', 3, 86), load);
  const line = (label: string): string[] => (report.split('\n').find((l) => l.startsWith(label)) ?? '').trim().split(/\s{2,}/);
  assert.deepEqual(line('port create (ports/s'), ['port create (ports/s, c=4)', '90.0', '3.0', '30.0x']);
  assert.deepEqual(line('port list, 40 ports'), ['port list, 40 ports, p50 (ms)', '4.3', '86.0', '20.0x']);
  assert.deepEqual(line('port create, server CPU'), ['port create, server CPU per port (ms)', '2.2', '66.7', '30.0x']);
  assert.deepEqual(line('port delete, server CPU'), ['port delete, server CPU per port (ms)', '-', '-', '-']);
  assert.match(report, /other processes used 25% of the machine during the creates, - during the deletes/);
  assert.match(report, /PASS {2}port create rate vs neutron-server/);
  const peerOnly = formatNetworkReport(undefined, side('neutron-server', 2.7, 86), load);
  assert.deepEqual((peerOnly.split('\n').find((l) => l.startsWith('port create (')) ?? '').trim().split(/\s{2,}/), ['port create (ports/s, c=4)', '-', '2.7', '-']);
  assert.doesNotMatch(peerOnly, /targets:/);
});

test('formatNetworkReport: SG rule -> wire p50 and max for Nephos, "n/a (no agent)" for the peer, and its 1 s target', () => {
  const nephos = { ...side('nephos', 90, 4.3), sgToWire: [300, 120, 980, 200, 150] };
  const report = formatNetworkReport(nephos, side('neutron-server', 3, 86), load);
  const line = (label: string): string[] => (report.split('\n').find((l) => l.startsWith(label)) ?? '').trim().split(/\s{2,}/);
  assert.deepEqual(line('SG rule -> on the wire, p50'), ['SG rule -> on the wire, p50 (ms)', '200', 'n/a (no agent)', '-']);
  assert.deepEqual(line('SG rule -> on the wire, max'), ['SG rule -> on the wire, max (ms)', '980', 'n/a (no agent)', '-']);
  assert.match(report, /5 trials \(rule POST to first connection through a floating IP\): 300, 120, 980, 200, 150 ms/);
  assert.match(report, /PASS {2}SG rule create to enforced on the wire, p50 \(ms\): 200\.0 <= 1000/);
  const slow = checkNetworkTargets({ ...nephos, sgToWire: [1500, 1200, 900] }, undefined);
  assert.deepEqual(slow.map((t) => [t.label, t.pass]), [['SG rule create to enforced on the wire, p50 (ms)', false]]);
  // Not measured: no figure, no target.
  const none = formatNetworkReport(side('nephos', 90, 4.3), undefined, load);
  assert.match(none, /SG rule -> on the wire, p50 \(ms\) +n\/a +- +-/);
});
