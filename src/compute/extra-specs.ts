/**
 * Validation of flavor extra specs (microversion 2.86): keys of the namespaces Nova knows
 * (`hw:`, `hw_rng:`, `hw_video:`, `os:`, `quota:`, `resources[N]:`, `trait[N]:`,
 * `aggregate_instance_extra_specs:`, `capabilities:`, `pci_passthrough:`, `accel:`) must be
 * known keys with values of the right form; keys of other namespaces, and keys without one,
 * are free-form. The table carries the commonly used subset of Nova's validators.
 */
import { badRequest } from './faults.js';

type ValueRule =
  | { readonly type: 'bool' }
  | { readonly type: 'int'; readonly min?: number; readonly max?: number }
  | { readonly type: 'str'; readonly pattern?: string; readonly enum?: readonly string[] };

interface SpecRule { readonly name: RegExp; readonly value: ValueRule }

const GROUP = '([a-zA-Z0-9_-]{1,64})?';
const CPU_MASK = '\\^?\\d+((-\\d+)?(,\\^?\\d+(-\\d+)?)?)*';
const bool: ValueRule = { type: 'bool' };
const int = (min?: number, max?: number): ValueRule => ({ type: 'int', min, max });
const oneOf = (...values: string[]): ValueRule => ({ type: 'str', enum: values });
const matching = (pattern: string): ValueRule => ({ type: 'str', pattern });
const anyStr: ValueRule = { type: 'str' };

const exact = (name: string, value: ValueRule): SpecRule => ({ name: new RegExp(`^${name.replace(/[.]/g, '\\.')}$`), value });
const shaped = (pattern: string, value: ValueRule): SpecRule => ({ name: new RegExp(`^(?:${pattern})$`), value });

/** Placement's standard resource classes (os-resource-classes). */
const STANDARD_RESOURCE_CLASSES = [
  'VCPU', 'MEMORY_MB', 'DISK_GB', 'PCI_DEVICE', 'SRIOV_NET_VF', 'NUMA_SOCKET', 'NUMA_CORE', 'NUMA_THREAD',
  'NUMA_MEMORY_MB', 'IPV4_ADDRESS', 'VGPU', 'VGPU_DISPLAY_HEAD', 'NET_BW_EGR_KILOBIT_PER_SEC',
  'NET_BW_IGR_KILOBIT_PER_SEC', 'PCPU', 'MEM_ENCRYPTION_CONTEXT', 'FPGA', 'PGPU',
  'NET_PACKET_RATE_KILOPACKET_PER_SEC', 'NET_PACKET_RATE_EGR_KILOPACKET_PER_SEC', 'NET_PACKET_RATE_IGR_KILOPACKET_PER_SEC',
];

const RULES: readonly SpecRule[] = [
  exact('hw:cpu_realtime', bool),
  exact('hw:cpu_realtime_mask', matching(`(\\^)?\\d+((-\\d+)?(,\\^?\\d+(-\\d+)?)?)*`)),
  exact('hw:hide_hypervisor_id', bool),
  exact('hw:cpu_policy', oneOf('dedicated', 'shared', 'mixed')),
  exact('hw:cpu_thread_policy', oneOf('prefer', 'isolate', 'require')),
  exact('hw:emulator_threads_policy', oneOf('isolate', 'share')),
  exact('hw:cpu_dedicated_mask', matching(CPU_MASK)),
  exact('hw:mem_page_size', matching('(large|small|any|\\d+([kKMGT]i?)?(b|bit|B)?)')),
  exact('hw:locked_memory', bool),
  exact('hw:numa_nodes', int(1)),
  shaped('hw:numa_cpus\\.\\d+', matching(CPU_MASK)),
  shaped('hw:numa_mem\\.\\d+', int(1)),
  exact('hw:pci_numa_affinity_policy', oneOf('required', 'preferred', 'legacy', 'socket')),
  ...['hw:cpu_sockets', 'hw:cpu_cores', 'hw:cpu_threads', 'hw:cpu_max_sockets', 'hw:cpu_max_cores', 'hw:cpu_max_threads'].map((n) => exact(n, int(1))),
  exact('hw:boot_menu', bool),
  exact('hw:vif_multiqueue_enabled', bool),
  exact('hw:mem_encryption', bool),
  exact('hw:mem_encryption_model', oneOf('amd-sev', 'amd-sev-es', 'amd-sev-snp')),
  exact('hw:pmem', matching('([a-zA-Z0-9_]+(,)?)+')),
  exact('hw:pmu', bool),
  exact('hw:serial_port_count', int(0)),
  exact('hw:tpm_model', oneOf('tpm-tis', 'tpm-crb')),
  exact('hw:tpm_version', oneOf('1.2', '2.0')),
  exact('hw:tpm_secret_security', oneOf('user', 'host', 'deployment')),
  exact('hw:watchdog_action', oneOf('none', 'pause', 'poweroff', 'reset', 'disabled')),
  exact('hw:viommu_model', oneOf('intel', 'smmuv3', 'virtio', 'auto')),
  exact('hw:virtio_packed_ring', bool),
  exact('hw:sound_model', oneOf('sb16', 'es1370', 'pcspk', 'ac97', 'ich6', 'ich9', 'usb', 'virtio')),
  exact('hw:usb_model', oneOf('none', 'nec-xhci', 'qemu-xhci')),
  exact('hw:redirected_usb_ports', int(0, 15)),
  exact('hw:ephemeral_encryption', bool),
  exact('hw:ephemeral_encryption_format', oneOf('plain', 'luks', 'luksv2')),
  exact('hw_rng:allowed', bool),
  exact('hw_rng:rate_bytes', int(0)),
  exact('hw_rng:rate_period', int(0)),
  exact('hw_video:ram_max_mb', int(0)),
  exact('os:secure_boot', oneOf('disabled', 'required')),
  ...['cpu', 'memory', 'disk_io', 'vif'].flatMap((k) => [
    exact(`quota:${k}_limit`, int(0)),
    exact(`quota:${k}_reservation`, int()),
    exact(`quota:${k}_shares_level`, oneOf('custom', 'high', 'normal', 'low')),
    exact(`quota:${k}_shares_share`, int(0)),
  ]),
  exact('quota:cpu_shares', int(0)),
  exact('quota:cpu_period', int(0)),
  exact('quota:cpu_quota', int()),
  ...['read', 'write', 'total'].flatMap((s) => ['bytes', 'iops'].map((m) => exact(`quota:disk_${s}_${m}_sec`, int(0)))),
  ...['inbound', 'outbound'].flatMap((s) => ['average', 'peak', 'burst'].map((m) => exact(`quota:vif_${s}_${m}`, int(0)))),
  shaped(`resources${GROUP}:(${STANDARD_RESOURCE_CLASSES.join('|')})`, int()),
  shaped(`resources${GROUP}:CUSTOM_[A-Z0-9_]+`, int()),
  // Every trait name has this shape; os-traits' full list is not carried here.
  shaped(`trait${GROUP}:[A-Z0-9_]+`, oneOf('required', 'forbidden')),
  shaped('aggregate_instance_extra_specs:.+', anyStr),
  shaped('capabilities:.+', anyStr),
  exact('pci_passthrough:alias', matching('[^:]+:\\d+(?:\\s*,\\s*[^:]+:\\d+)*')),
  exact('accel:device_profile', anyStr),
  exact('hide_hypervisor_id', bool),
  exact('group_policy', oneOf('isolate', 'none')),
];

/** Namespaces (the part before ':') whose keys must be known. */
const NAMESPACES: readonly RegExp[] = [
  /^hw$/, /^hw_rng$/, /^hw_video$/, /^os$/, /^quota$/, new RegExp(`^resources${GROUP}$`), new RegExp(`^trait${GROUP}$`),
  /^aggregate_instance_extra_specs$/, /^capabilities$/, /^pci_passthrough$/, /^accel$/,
];

const fail = (msg: string) => badRequest(`Validation failed; ${msg}`);
const BOOLS = new Set(['true', '1', 'on', 'yes', 't', 'y', 'false', '0', 'off', 'no', 'f', 'n']);

function checkValue(rule: ValueRule, value: string): void {
  switch (rule.type) {
    case 'bool':
      if (!BOOLS.has(value.trim().toLowerCase())) throw fail(`'${value}' is not a valid boolean-like value.`);
      return;
    case 'int': {
      if (!/^\s*[+-]?\d+\s*$/.test(value)) throw fail(`'${value}' is not a valid integer value.`);
      const n = Number(value);
      if (rule.max !== undefined && n > rule.max) throw fail(`'${value}' is greater than the max value of '${rule.max}'.`);
      if (rule.min !== undefined && n < rule.min) throw fail(`'${value}' is less than the min value of '${rule.min}'.`);
      return;
    }
    case 'str':
      if (rule.pattern !== undefined && !new RegExp(`^(?:${rule.pattern})$`).test(value)) throw fail(`'${value}' is not of the format '${rule.pattern}'.`);
      if (rule.enum && !rule.enum.includes(value)) throw fail(`'${value}' is not one of: ${rule.enum.join(', ')}.`);
  }
}

/** Validates one extra spec as Nova does from microversion 2.86 (400 on failure). */
export function validateExtraSpec(name: string, value: string): void {
  const rule = RULES.find((r) => r.name.test(name));
  if (rule) { checkValue(rule.value, value); return; }
  const i = name.indexOf(':');
  if (i < 0) return;
  const ns = name.slice(0, i);
  if (NAMESPACES.some((re) => re.test(ns))) throw fail(`extra spec '${name}' does not appear to be a valid extra spec.`);
}
