/**
 * The image service's tables, with the portable conventions of the identity schema: string ids
 * (Glance's dashed uuids), integer 0/1 booleans, ISO-8601 UTC timestamps with microseconds (they
 * sort as text). Sizes are bigint columns; PostgreSQL hands them back as strings, so readers
 * convert with Number().
 */

export interface ImageRow {
  id: string;
  name: string | null;
  status: string;
  visibility: string;
  protected: number;
  os_hidden: number;
  checksum: string | null;
  os_hash_algo: string | null;
  os_hash_value: string | null;
  owner: string | null;
  size: number | string | null;
  virtual_size: number | string | null;
  min_ram: number;
  min_disk: number;
  container_format: string | null;
  disk_format: string | null;
  created_at: string;
  updated_at: string;
  /** Where the store keeps the data (null until an upload or import completes). */
  location: string | null;
  /** Where staged data waits for an import (null when nothing is staged). */
  stage_location: string | null;
  /** JSON of what staging learned about the data (size, hashes, inspection), for the import. */
  stage_info: string | null;
}

export interface ImagePropertyRow { image_id: string; name: string; value: string }
export interface ImageTagRow { image_id: string; value: string }
export interface ImageMemberRow {
  image_id: string; member: string; status: string; created_at: string; updated_at: string;
}

/** An import task; `input`/`result` are JSON text. */
export interface ImageTaskRow {
  id: string; image_id: string; type: string; status: string; owner: string | null; user_id: string | null;
  request_id: string | null; input: string; result: string | null; message: string;
  created_at: string; updated_at: string; expires_at: string | null;
}

/** The image database, for Kysely. */
export interface ImageDB {
  image: ImageRow;
  image_property: ImagePropertyRow;
  image_tag: ImageTagRow;
  image_member: ImageMemberRow;
  image_task: ImageTaskRow;
}
