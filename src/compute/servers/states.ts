/**
 * Nova's instance states: `vm_state` (what the instance is), `task_state` (what is being done to
 * it), `power_state` (what the hypervisor says), and the API `status` derived from the first two.
 */
import type { PowerState } from '../driver/types.js';

export const VM = {
  active: 'active', building: 'building', paused: 'paused', suspended: 'suspended', stopped: 'stopped',
  rescued: 'rescued', resized: 'resized', softDeleted: 'soft-delete', deleted: 'deleted', error: 'error',
  shelved: 'shelved', shelvedOffloaded: 'shelved_offloaded',
} as const;
export type VmState = (typeof VM)[keyof typeof VM];

/** Nova's power_state numbers (shown as `OS-EXT-STS:power_state`). */
export const POWER = { nostate: 0, running: 1, paused: 3, shutdown: 4, crashed: 6, suspended: 7 } as const;

/** A driver's power state as Nova's number. */
export function powerNumber(s: PowerState): number {
  switch (s) {
    case 'running': return POWER.running;
    case 'paused': return POWER.paused;
    case 'shutdown': return POWER.shutdown;
    case 'crashed': return POWER.crashed;
    case 'suspended': return POWER.suspended;
    default: return POWER.nostate;
  }
}

const RESIZING = new Set(['resize_prep', 'resize_migrating', 'resize_migrated', 'resize_finish']);
const REBUILDING = new Set(['rebuilding', 'rebuild_block_device_mapping', 'rebuild_spawning']);
const SOFT_REBOOT = new Set(['rebooting', 'reboot_pending', 'reboot_started']);
const HARD_REBOOT = new Set(['rebooting_hard', 'reboot_pending_hard', 'reboot_started_hard']);

/** The API `status` of an instance (Nova's common.status_from_state). */
export function statusOf(vmState: string, taskState: string | null): string {
  const t = taskState ?? '';
  switch (vmState) {
    case VM.active:
      if (SOFT_REBOOT.has(t)) return 'REBOOT';
      if (HARD_REBOOT.has(t)) return 'HARD_REBOOT';
      if (REBUILDING.has(t)) return 'REBUILD';
      if (RESIZING.has(t)) return 'RESIZE';
      if (t === 'migrating') return 'MIGRATING';
      if (t === 'updating_password') return 'PASSWORD';
      return 'ACTIVE';
    case VM.building: return 'BUILD';
    case VM.stopped:
      if (RESIZING.has(t)) return 'RESIZE';
      if (REBUILDING.has(t)) return 'REBUILD';
      return 'SHUTOFF';
    case VM.resized: return t === 'resize_reverting' ? 'REVERT_RESIZE' : 'VERIFY_RESIZE';
    case VM.paused: return t === 'migrating' ? 'MIGRATING' : 'PAUSED';
    case VM.suspended: return 'SUSPENDED';
    case VM.rescued: return 'RESCUE';
    case VM.error: return REBUILDING.has(t) ? 'REBUILD' : 'ERROR';
    case VM.deleted: return 'DELETED';
    case VM.softDeleted: return 'SOFT_DELETED';
    case VM.shelved: return 'SHELVED';
    case VM.shelvedOffloaded: return 'SHELVED_OFFLOADED';
    default: return 'UNKNOWN';
  }
}

/** The vm_states a `status` filter means (Nova's states_from_status, for list filters). */
export function vmStatesOf(status: string): string[] {
  switch (status.toUpperCase()) {
    case 'ACTIVE': case 'REBOOT': case 'HARD_REBOOT': case 'PASSWORD': case 'MIGRATING': return [VM.active];
    case 'BUILD': return [VM.building];
    case 'SHUTOFF': return [VM.stopped];
    case 'RESIZE': return [VM.active, VM.stopped];
    case 'REBUILD': return [VM.active, VM.stopped, VM.error];
    case 'VERIFY_RESIZE': case 'REVERT_RESIZE': return [VM.resized];
    case 'PAUSED': return [VM.paused];
    case 'SUSPENDED': return [VM.suspended];
    case 'RESCUE': return [VM.rescued];
    case 'ERROR': return [VM.error];
    case 'DELETED': return [VM.deleted];
    case 'SOFT_DELETED': return [VM.softDeleted];
    case 'SHELVED': return [VM.shelved];
    case 'SHELVED_OFFLOADED': return [VM.shelvedOffloaded];
    default: return [];
  }
}
