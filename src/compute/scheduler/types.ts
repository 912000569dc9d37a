/**
 * What the scheduler is asked (a RequestSpec, Nova's RequestSpec object reduced to what the
 * filters, weighers and placement query read) and what it answers (one Selection per instance,
 * with the resources already claimed in placement and alternates for reschedules).
 */

/** The sizes and extra specs of the flavor the instances are built from. */
export interface FlavorRequest {
  readonly vcpus: number;
  readonly memoryMb: number;
  /** Root disk (GiB). Not requested from placement when the instance boots from a volume. */
  readonly rootGb: number;
  readonly ephemeralGb?: number;
  /** Swap (MiB); placement is asked for it rounded up to whole GiB, as Nova does. */
  readonly swapMb?: number;
  /** The flavor's name and id, for messages only. */
  readonly name?: string;
  readonly flavorId?: string;
  /**
   * Extra specs: `resources[N]:<CLASS>=<amount>` (0 removes a class), `trait[N]:<TRAIT>=required|forbidden`,
   * `group_policy`, and `aggregate_instance_extra_specs:<key>` (or unscoped keys) matched against
   * aggregate metadata by the AggregateInstanceExtraSpecsFilter.
   */
  readonly extraSpecs?: Readonly<Record<string, string>>;
}

/** A server group's policy (Nova's four). */
export type ServerGroupPolicy = 'affinity' | 'anti-affinity' | 'soft-affinity' | 'soft-anti-affinity';

/** The server group the instances join (scheduler hint `group`), as the caller loaded it. */
export interface ServerGroupRequest {
  readonly uuid: string;
  readonly policy: ServerGroupPolicy;
  /**
   * The host of each current member that has one: one entry per member, so a host running two
   * members appears twice (max_server_per_host counts them).
   */
  readonly memberHosts: readonly string[];
  /** Policy rules (microversion 2.64): anti-affinity's `max_server_per_host` (default 1). */
  readonly rules?: { readonly max_server_per_host?: number };
}

/** The image the instances boot from (properties as Glance shows them). */
export interface ImageRequest {
  readonly id?: string;
  /**
   * Properties read: hw_architecture (or architecture), img_hv_type (or hypervisor_type),
   * hw_vm_mode (or vm_mode), img_hv_requested_version, and required traits as
   * `trait:<TRAIT>=required` or a `traits_required` list.
   */
  readonly properties?: Readonly<Record<string, unknown>>;
}

/** Everything the scheduler needs to place one request's instances. */
export interface RequestSpec {
  /** One UUID per instance to place; each is its placement consumer. */
  readonly instanceUuids: readonly string[];
  readonly projectId: string;
  readonly userId: string;
  readonly flavor: FlavorRequest;
  readonly image?: ImageRequest;
  /** Boot from volume: the root disk is not local, so DISK_GB excludes root_gb. */
  readonly bootFromVolume?: boolean;
  /** The requested zone (the zone part of `az:host:node`; see parseAvailabilityZone). */
  readonly availabilityZone?: string | null;
  /**
   * Forced host and node (admins' `availability_zone=az:host:node`): only that host is
   * considered and the filters are skipped, as in Nova; placement still has to fit the flavor.
   */
  readonly forceHost?: string | null;
  readonly forceNode?: string | null;
  /** A requested destination (2.74 `host` / `hypervisor_hostname`): only there, filters still run. */
  readonly requestedDestination?: { readonly host?: string | null; readonly node?: string | null };
  /** Scheduler hints as the API received them (kept for logs; `group` arrives resolved as `group`). */
  readonly schedulerHints?: Readonly<Record<string, unknown>>;
  readonly group?: ServerGroupRequest;
  /** Hosts never to choose (earlier failed attempts of a reschedule, the source of a migration). */
  readonly ignoreHosts?: readonly string[];
  /** The caller's request id, for logs. */
  readonly requestId?: string;
}

/** A host an instance may go to, with the allocation to claim there (provider → class → amount). */
export interface Destination {
  /** The compute service's host. */
  readonly host: string;
  /** The compute node's hypervisor_hostname. */
  readonly nodename: string;
  /** The compute node's UUID (its placement root provider). */
  readonly computeNodeUuid: string;
  readonly availabilityZone: string;
  readonly allocationRequest: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

/**
 * Where one instance goes: the chosen destination, whose allocation is already claimed in
 * placement for `instanceUuid`, and up to `scheduler_max_attempts - 1` alternates, not claimed,
 * to try in order when the build fails there (see Scheduler.claimAlternate).
 */
export interface Selection extends Destination {
  readonly instanceUuid: string;
  /** The consumer generation placement gave the claim. */
  readonly consumerGeneration: number;
  /** The chosen host's total weight (for logs and tests). */
  readonly weight: number;
  readonly alternates: readonly Destination[];
}
