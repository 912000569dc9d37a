/** Row shapes of the placement tables (see migrations.ts). Timestamps are ISO-8601 strings. */
export interface ResourceClassRow { name: string; standard: number; created_at: string; updated_at: string | null }
export interface TraitRow { name: string; standard: number; created_at: string; updated_at: string | null }
export interface ProviderRow {
  uuid: string;
  name: string;
  generation: number;
  parent_uuid: string | null;
  root_uuid: string;
  created_at: string;
  updated_at: string | null;
}
export interface InventoryRow {
  provider_uuid: string;
  resource_class: string;
  total: number;
  reserved: number;
  min_unit: number;
  max_unit: number;
  step_size: number;
  allocation_ratio: number;
  /** Sum of the allocations of this class on this provider. */
  used: number;
  created_at: string;
  updated_at: string | null;
}
export interface ProviderTraitRow { provider_uuid: string; trait: string }
export interface ProviderAggregateRow { provider_uuid: string; aggregate_uuid: string }
export interface ConsumerRow {
  uuid: string;
  project_id: string;
  user_id: string;
  consumer_type: string | null;
  generation: number;
  created_at: string;
  updated_at: string | null;
}
export interface AllocationRow {
  consumer_uuid: string;
  provider_uuid: string;
  resource_class: string;
  used: number;
  created_at: string;
  updated_at: string | null;
}

export interface PlacementDB {
  placement_resource_class: ResourceClassRow;
  placement_trait: TraitRow;
  placement_provider: ProviderRow;
  placement_inventory: InventoryRow;
  placement_provider_trait: ProviderTraitRow;
  placement_provider_aggregate: ProviderAggregateRow;
  placement_consumer: ConsumerRow;
  placement_allocation: AllocationRow;
}
