/**
 * `GET /servers/{id}/diagnostics` (admin): what the instance's hypervisor tells about it, asked of
 * the driver on its host. Before 2.48 in the libvirt driver's free-form keys (`cpu0_time`,
 * `vda_read`, `<tap>_rx`, `memory` in KiB, …); from 2.48 in Nova's standard form, as the libvirt
 * driver fills it (driver `libvirt`, the hypervisor's virt type, uptime since launch, no rates
 * or utilisation). An instance on no host is not ready (409); a driver without diagnostics 501.
 */
import type { FastifyRequest } from 'fastify';
import { conflict, notFound, novaFault } from '../faults.js';
import { atLeast, params, type ComputeRoutes } from '../api/http.js';
import type { InstanceDiagnostics, PowerState } from '../driver/types.js';
import { isDriverError } from '../driver/errors.js';
import { computeNodesOf } from '../hypervisors.js';
import type { Instance } from './store.js';
import { visibleInstance, type ServersApiDeps } from './api.js';
import { agentOf } from './action-guard.js';

/** Nova's power_state.STATE_MAP names. */
const STATE: Readonly<Record<PowerState, string>> = { running: 'running', paused: 'paused', shutdown: 'shutdown', crashed: 'crashed', suspended: 'suspended', missing: 'pending' };

/** Whole seconds since the instance was launched (what the libvirt driver reports as uptime). */
function uptime(inst: Instance): number | null {
  if (!inst.launched_at) return null;
  const t = Date.parse(`${inst.launched_at.slice(0, 23)}Z`);
  return Number.isNaN(t) ? null : Math.max(0, Math.floor((Date.now() - t) / 1000));
}

/** The 2.48 form. */
function standard(inst: Instance, diag: InstanceDiagnostics, hypervisor: string | null): Record<string, unknown> {
  return {
    state: STATE[diag.state], driver: 'libvirt', hypervisor, hypervisor_os: 'linux', uptime: uptime(inst), config_drive: inst.body.config_drive,
    num_cpus: diag.cpus.length, num_nics: diag.nics.length, num_disks: diag.disks.length,
    disk_details: diag.disks.map((d) => ({
      read_bytes: d.readBytes, read_requests: d.readRequests, write_bytes: d.writeBytes, write_requests: d.writeRequests, errors_count: d.errors,
    })),
    cpu_details: diag.cpus.map((c) => ({ id: c.id, time: c.timeNs, utilisation: null })),
    nic_details: diag.nics.map((n) => ({
      mac_address: n.mac, rx_octets: n.rxOctets, rx_errors: n.rxErrors, rx_drop: n.rxDrop, rx_packets: n.rxPackets, rx_rate: null,
      tx_octets: n.txOctets, tx_errors: n.txErrors, tx_drop: n.txDrop, tx_packets: n.txPackets, tx_rate: null,
    })),
    memory_details: { maximum: diag.memory.maximumMb, used: diag.memory.usedMb },
  };
}

/** The libvirt driver's pre-2.48 keys (a figure the hypervisor cannot tell is left out). */
function legacy(diag: InstanceDiagnostics): Record<string, number> {
  const out: Record<string, number | null> = {};
  for (const c of diag.cpus) out[`cpu${c.id}_time`] = c.timeNs;
  for (const d of diag.disks) {
    Object.assign(out, { [`${d.name}_read_req`]: d.readRequests, [`${d.name}_read`]: d.readBytes, [`${d.name}_write_req`]: d.writeRequests, [`${d.name}_write`]: d.writeBytes, [`${d.name}_errors`]: d.errors });
  }
  for (const n of diag.nics) {
    if (!n.device) continue;
    const p = n.device;
    Object.assign(out, {
      [`${p}_rx`]: n.rxOctets, [`${p}_rx_packets`]: n.rxPackets, [`${p}_rx_errors`]: n.rxErrors, [`${p}_rx_drop`]: n.rxDrop,
      [`${p}_tx`]: n.txOctets, [`${p}_tx_packets`]: n.txPackets, [`${p}_tx_errors`]: n.txErrors, [`${p}_tx_drop`]: n.txDrop,
    });
  }
  out.memory = diag.memory.maximumMb * 1024;
  if (diag.memory.usedMb !== null) out['memory-actual'] = diag.memory.usedMb * 1024;
  if (diag.memory.rssKb !== null && diag.memory.rssKb !== undefined) out['memory-rss'] = diag.memory.rssKb;
  return Object.fromEntries(Object.entries(out).filter((e): e is [string, number] => e[1] !== null));
}

export function registerServerDiagnostics(routes: ComputeRoutes, d: ServersApiDeps): void {
  routes.get('/servers/:server_id/diagnostics', async (req: FastifyRequest) => {
    const inst = await visibleInstance(d.ctx, routes.caller(req), params<{ server_id: string }>(req).server_id, 'os_compute_api:os-server-diagnostics');
    if (!inst.host) throw conflict(`Instance ${inst.uuid} is not ready`);
    const driver = agentOf(d, inst).driver;
    if (!driver.diagnostics) throw novaFault(501, 'The requested functionality is not supported.');
    let diag: InstanceDiagnostics;
    try {
      diag = await driver.diagnostics(inst.uuid);
    } catch (err) {
      if (isDriverError(err) && err.code === 'InstanceNotFound') throw notFound(`Instance ${inst.uuid} could not be found.`);
      throw err;
    }
    if (!atLeast(req, '2.48')) return legacy(diag);
    const node = (await computeNodesOf(d.ctx.db, inst.host)).find((n) => n.hypervisor_hostname === inst.node) ?? (await computeNodesOf(d.ctx.db, inst.host))[0];
    return standard(inst, diag, node?.virt_type ?? null);
  });
}
