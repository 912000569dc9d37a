/**
 * The one error type compute drivers throw, with a code the agent maps to an instance fault or an
 * API status (never by message text). The message says what went wrong for an operator; `cause`
 * keeps the underlying error (a host command's stderr, a QMP error class).
 */

export type ComputeDriverErrorCode =
  /** No such instance on this host. */
  | 'InstanceNotFound'
  /** spawn of an instance id that already exists here. */
  | 'InstanceExists'
  /** The operation does not apply in the instance's current state (e.g. pause of a stopped instance). */
  | 'InvalidState'
  /** A malformed spec (bad UUID, MAC, MTU, size, path, …). */
  | 'InvalidSpec'
  /** The image file is not what it claims (format mismatch, backing file, unreadable). */
  | 'ImageUnacceptable'
  /** The image's virtual size exceeds the flavor's root disk (Nova's FlavorDiskSmallerThanImage). */
  | 'FlavorDiskSmallerThanImage'
  /** A resize that would shrink a disk. */
  | 'ResizeError'
  /** A NIC operation on a port the instance has (attach) or lacks (detach). */
  | 'InterfaceExists'
  | 'InterfaceNotFound'
  /** The guest did not release a hot-unplugged device in time. */
  | 'DeviceDetachFailed'
  /** The host namespace or a port's TAP is not there (the network agent has not plugged it yet). */
  | 'NetworkNotReady'
  /** The hypervisor cannot run here as configured (QEMU missing, kvm required but unusable). */
  | 'HypervisorUnavailable'
  /** The hypervisor failed an operation (QEMU refused to start, a QMP command failed, a migration failed). */
  | 'HypervisorError'
  /** The hypervisor did not answer or finish in time. */
  | 'Timeout';

export class ComputeDriverError extends Error {
  constructor(readonly code: ComputeDriverErrorCode, message: string, opts: { cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ComputeDriverError';
  }
}

/** Whether `err` is a ComputeDriverError with `code`. */
export function isDriverError(err: unknown, code?: ComputeDriverErrorCode): err is ComputeDriverError {
  return err instanceof ComputeDriverError && (code === undefined || err.code === code);
}
