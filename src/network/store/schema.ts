/**
 * Row shapes of the network service's tables. Every resource table stores the object's API
 * representation as JSON in `body`, with the attributes that lists filter on most (and that
 * constraints need) mirrored into indexed columns.
 */
export interface ResourceRow {
  id: string;
  project_id: string;
  name: string;
  body: string;
  [column: string]: unknown;
}

export interface IpAllocationRow {
  subnet_id: string;
  ip_address: string;
  network_id: string;
  port_id: string;
}

export interface SegmentAllocationRow {
  network_type: string;
  segmentation_id: number;
  network_id: string;
}

export interface NetworkDB {
  [table: string]: any;
  net_ip_allocation: IpAllocationRow;
  net_segment_allocation: SegmentAllocationRow;
}
