/**
 * A private vhost on the machine's RabbitMQ for a peer's RPC, made and removed with rabbitmqctl,
 * so the peer's queues and exchanges never mix with anyone else's and vanish with it.
 */
import { runCommand } from './proc.js';

const CTL_TIMEOUT_MS = 60_000;

/** Adds `vhost` and lets `guest` (the broker's loopback-only user) configure, write and read it. */
export async function addVhost(vhost: string): Promise<void> {
  await runCommand('rabbitmqctl', ['add_vhost', vhost], { timeoutMs: CTL_TIMEOUT_MS });
  try {
    await runCommand('rabbitmqctl', ['set_permissions', '-p', vhost, 'guest', '.*', '.*', '.*'], { timeoutMs: CTL_TIMEOUT_MS });
  } catch (err) {
    await deleteVhost(vhost).catch(() => undefined);
    throw err;
  }
}

/** Deletes `vhost` with everything in it. */
export async function deleteVhost(vhost: string): Promise<void> {
  await runCommand('rabbitmqctl', ['delete_vhost', vhost], { timeoutMs: CTL_TIMEOUT_MS });
}
