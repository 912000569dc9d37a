import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Caller } from '../context.js';
import type { Instance } from './store.js';
import { checkLock, checkState, invalidState } from './action-guard.js';
import { snapshotImageMeta } from './snapshot.js';
import { checkFlavorFitsImage } from './rebuild.js';

const UUID = '11111111-2222-4333-8444-555555555555';
const inst = (o: Partial<Instance> = {}, body: Partial<Instance['body']> = {}): Instance => ({
  id: 1, uuid: UUID, project_id: 'p1', user_id: 'u1', display_name: 'vm', host: 'h', node: 'h', vm_state: 'active', task_state: null, power_state: 1,
  image_ref: 'img-1', flavor_id: '1', availability_zone: 'nova', reservation_id: 'r-1', launch_index: 0, key_name: null, locked: 0,
  created_at: '2026-01-01T00:00:00.000Z', updated_at: null, launched_at: '2026-01-01T00:00:10.000Z', terminated_at: null, deleted: 0, deleted_at: null,
  ...o,
  body: {
    description: null, hostname: 'vm', metadata: {}, user_data: null, key_data: null, config_drive: false, requested_networks: 'auto', ports: [],
    addresses: {}, security_groups: ['default'], access_ip_v4: '', access_ip_v6: '', tags: [], fault: null, server_group: null, scheduler_hints: {},
    locked_reason: null, locked_by: null, progress: 0,
    flavor: { flavorid: '1', name: 'm1.tiny', vcpus: 1, memory_mb: 512, root_gb: 1, ephemeral_gb: 0, swap: 0, extra_specs: {} },
    image: { id: 'img-1', name: 'guest', disk_format: 'qcow2', min_disk: 0, min_ram: 64, properties: { kernel_id: 'k', img_signature: 'sig', os_glance_x: 'y', hw_disk_bus: 'virtio' } },
    ...body,
  },
});
const caller = (o: Partial<Caller> = {}): Caller => ({ userId: 'u1', projectId: 'p1', isAdmin: false, creds: {} as Caller['creds'], ...o });

test('state checks word the 409 as Nova: the vm_state when it is wrong, else the task_state; never-launched instances refused', () => {
  assert.throws(() => checkState('resize', inst({ vm_state: 'paused' }), { vmStates: ['active', 'stopped'] }),
    (e: any) => e.status === 409 && e.message === `Cannot 'resize' instance ${UUID} while it is in vm_state paused`);
  assert.throws(() => checkState('resize', inst({ task_state: 'rebooting' }), { vmStates: ['active'] }),
    (e: any) => e.status === 409 && e.message === `Cannot 'resize' instance ${UUID} while it is in task_state rebooting`);
  assert.throws(() => checkState('rebuild', inst({ vm_state: 'error', launched_at: null }), { vmStates: ['error'] }),
    (e: any) => e.status === 409 && /launched_at None/.test(e.message));
  assert.doesNotThrow(() => checkState('rebuild', inst({ vm_state: 'error', launched_at: null }), { vmStates: ['error'], launched: false }));
  assert.equal(invalidState('x', { uuid: UUID, vm_state: 'active', task_state: 'spawning' }).message, `Cannot 'x' instance ${UUID} while it is in task_state spawning`);
});

test('a locked instance takes actions from admins only (Nova\'s check_instance_lock), its owner included', () => {
  assert.throws(() => checkLock(caller(), inst({ locked: 1 }, { locked_by: 'owner' })), (e: any) => e.status === 409 && e.message === `Instance ${UUID} is locked`);
  assert.doesNotThrow(() => checkLock(caller({ isAdmin: true }), inst({ locked: 1 })));
  assert.doesNotThrow(() => checkLock(caller(), inst()));
});

test('a snapshot image record inherits the image properties but the non-inheritable ones, adds Nova\'s, and takes the instance\'s minimums', () => {
  const own = snapshotImageMeta(inst(), caller(), 'snap', { purpose: 'x', image_type: 'backup' });
  assert.deepEqual(own, {
    kernel_id: 'k', hw_disk_bus: 'virtio', base_image_ref: 'img-1', image_type: 'backup', instance_uuid: UUID, user_id: 'u1', purpose: 'x',
    name: 'snap', disk_format: 'qcow2', container_format: 'bare', visibility: 'private', owner: 'p1', min_ram: 64, min_disk: 1,
  });
  // An admin of another project: the image is the admin's, shared with the instance's project.
  const other = snapshotImageMeta(inst(), caller({ projectId: 'admin', userId: 'a', isAdmin: true }), 'snap');
  assert.equal(other.visibility, 'shared');
  assert.equal(other.owner, 'admin');
  assert.equal(other.instance_owner, 'p1');
});

test('flavor and image sizes: memory and disk minimums, and the image\'s size against the root disk', () => {
  assert.throws(() => checkFlavorFitsImage({ memory_mb: 64, root_gb: 1 }, { min_ram: 128, min_disk: 0, size: null, virtual_size: null }), /memory is too small/);
  assert.throws(() => checkFlavorFitsImage({ memory_mb: 512, root_gb: 1 }, { min_ram: 0, min_disk: 2, size: null, virtual_size: null }), /disk is too small/);
  assert.throws(() => checkFlavorFitsImage({ memory_mb: 512, root_gb: 1 }, { min_ram: 0, min_disk: 0, size: 10, virtual_size: 2 * 1024 ** 3 }), /Flavor disk is 1073741824 bytes, image is 2147483648 bytes/);
  assert.doesNotThrow(() => checkFlavorFitsImage({ memory_mb: 512, root_gb: 0 }, { min_ram: 0, min_disk: 5, size: null, virtual_size: 9 * 1024 ** 3 }));
});
