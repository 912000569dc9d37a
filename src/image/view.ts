/**
 * The JSON Glance returns for an image (`GET /v2/images/{id}`), and how a stored image becomes it.
 * Extra properties sit beside the core attributes at the top level, as in Glance.
 */
import type { ImageRow } from './store/schema.js';

/** Core attributes of an image as the API shows them. */
export interface ImageCore {
  id: string;
  name: string | null;
  status: string;
  visibility: string;
  protected: boolean;
  os_hidden: boolean;
  checksum: string | null;
  os_hash_algo: string | null;
  os_hash_value: string | null;
  owner: string | null;
  size: number | null;
  virtual_size: number | null;
  min_ram: number;
  min_disk: number;
  container_format: string | null;
  disk_format: string | null;
  created_at: string;
  updated_at: string;
}

/** An image as the API returns it: core attributes, links, tags and extra properties (strings). */
export type ImageView = ImageCore & {
  tags: string[];
  self: string;
  file: string;
  schema: string;
  [extra: string]: unknown;
};

/** Properties Glance keeps for itself and never shows. */
const HIDDEN_PROPERTIES = new Set(['os_glance_stage_host']);

/** Glance's timestamp form (timeutils.isotime): seconds precision, `Z`. */
export const apiTime = (stored: string): string => `${stored.slice(0, 19)}Z`;

const num = (v: number | string | bigint | null): number | null => (v === null || v === undefined ? null : Number(v));
const flag = (v: number | boolean | string): boolean => v === true || v === 1 || v === '1';

/** The core attributes of a stored image. */
export function coreOf(row: ImageRow): ImageCore {
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    visibility: row.visibility,
    protected: flag(row.protected),
    os_hidden: flag(row.os_hidden),
    checksum: row.checksum,
    os_hash_algo: row.os_hash_algo,
    os_hash_value: row.os_hash_value,
    owner: row.owner,
    size: num(row.size),
    virtual_size: num(row.virtual_size),
    min_ram: Number(row.min_ram),
    min_disk: Number(row.min_disk),
    container_format: row.container_format,
    disk_format: row.disk_format,
    created_at: apiTime(row.created_at),
    updated_at: apiTime(row.updated_at),
  };
}

/** The store id of a location (`file://…` → `file`). */
const storeOf = (location: string): string => location.slice(0, Math.max(0, location.indexOf('://'))) || 'file';

/** The API view of a stored image with its extra properties and tags. */
export function renderImage(row: ImageRow, extra: Readonly<Record<string, string>>, tags: readonly string[]): ImageView {
  const view: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(extra)) if (!HIDDEN_PROPERTIES.has(k)) view[k] = v;
  Object.assign(view, coreOf(row));
  view.tags = [...tags];
  // Glance (multi-store) names the stores holding the data; Nephos has the one `file` store.
  if (row.location) view.stores = storeOf(row.location);
  view.self = `/v2/images/${row.id}`;
  view.file = `/v2/images/${row.id}/file`;
  view.schema = '/v2/schemas/image';
  return view as ImageView;
}
