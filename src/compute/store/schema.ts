/**
 * Row shapes of the compute service's tables (namespace `compute`). Times are ISO-8601 strings
 * (UTC, microseconds) so every engine stores and sorts them alike; booleans are 0/1 integers.
 */

export interface FlavorRow {
  id: number;
  flavorid: string;
  name: string;
  memory_mb: number;
  vcpus: number;
  root_gb: number;
  ephemeral_gb: number;
  swap: number;
  rxtx_factor: number;
  vcpu_weight: number | null;
  disabled: number;
  is_public: number;
  description: string | null;
  created_at: string;
  updated_at: string | null;
}

export interface FlavorExtraSpecRow { flavor_id: number; spec_key: string; spec_value: string }
export interface FlavorProjectRow { flavor_id: number; project_id: string }

export interface KeypairRow {
  id: number;
  user_id: string;
  name: string;
  fingerprint: string;
  public_key: string;
  type: string;
  created_at: string;
}

/** A quota limit of a project (`user_id` '') or of one user of a project. */
export interface QuotaRow { project_id: string; user_id: string; resource: string; hard_limit: number }
export interface QuotaClassRow { class_name: string; resource: string; hard_limit: number }

export interface ServiceRow {
  id: number;
  uuid: string;
  host: string;
  binary: string;
  topic: string | null;
  disabled: number;
  disabled_reason: string | null;
  forced_down: number;
  report_count: number;
  last_seen_up: string | null;
  created_at: string;
  updated_at: string | null;
}

export interface ComputeNodeRow {
  id: number;
  uuid: string;
  host: string;
  hypervisor_hostname: string;
  hypervisor_type: string;
  hypervisor_version: number;
  virt_type: string | null;
  vcpus: number;
  memory_mb: number;
  local_gb: number;
  vcpus_used: number;
  memory_mb_used: number;
  local_gb_used: number;
  running_vms: number;
  current_workload: number;
  disk_available_least: number | null;
  cpu_info: string;
  host_ip: string | null;
  uptime: string | null;
  created_at: string;
  updated_at: string | null;
}

export interface AggregateRow { id: number; uuid: string; name: string; created_at: string; updated_at: string | null }
export interface AggregateHostRow { aggregate_id: number; host: string }
export interface AggregateMetadataRow { aggregate_id: number; meta_key: string; meta_value: string }

export interface ComputeDB {
  compute_flavor: FlavorRow;
  compute_flavor_extra_spec: FlavorExtraSpecRow;
  compute_flavor_project: FlavorProjectRow;
  compute_keypair: KeypairRow;
  compute_quota: QuotaRow;
  compute_quota_class: QuotaClassRow;
  compute_service: ServiceRow;
  compute_node: ComputeNodeRow;
  compute_aggregate: AggregateRow;
  compute_aggregate_host: AggregateHostRow;
  compute_aggregate_metadata: AggregateMetadataRow;
}
