/**
 * The JSON schema documents of the Images v2 API (`/v2/schemas/…`). They are the single source of
 * truth: `properties.ts` and `patch.ts` validate request values against these very documents, so
 * what a client reads here is what the API enforces. Property names, types, enums, lengths and
 * links follow Glance (Zed) with its default format lists and its stock `schema-image.json`
 * custom properties (marked `is_base: false`).
 */

/** A JSON schema fragment, as far as the image API uses them. */
export interface PropertySchema {
  readonly type?: string | readonly string[];
  readonly description?: string;
  readonly enum?: readonly (string | null)[];
  readonly maxLength?: number;
  readonly minLength?: number;
  readonly pattern?: string;
  readonly readOnly?: boolean;
  readonly writeOnly?: boolean;
  readonly is_base?: boolean;
  readonly items?: PropertySchema;
  readonly properties?: Readonly<Record<string, PropertySchema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | PropertySchema;
}

export const DISK_FORMATS = ['ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw', 'qcow2', 'vdi', 'iso', 'ploop'] as const;
export const CONTAINER_FORMATS = ['ami', 'ari', 'aki', 'bare', 'ovf', 'ova', 'docker', 'compressed'] as const;
export const IMAGE_STATUSES = [
  'queued', 'saving', 'active', 'killed', 'deleted', 'uploading', 'importing', 'pending_delete', 'deactivated',
] as const;
export const VISIBILITIES = ['community', 'public', 'private', 'shared'] as const;
export const MEMBER_STATUSES = ['pending', 'accepted', 'rejected'] as const;

export type Visibility = (typeof VISIBILITIES)[number];
export type ImageStatus = (typeof IMAGE_STATUSES)[number];

const UUID_PATTERN = '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$';

/** The attributes every image has (Glance's "base properties"). */
const baseProperties: Readonly<Record<string, PropertySchema>> = {
  id: { type: 'string', description: 'Unique identifier (UUID) of the image', pattern: UUID_PATTERN },
  name: { type: ['null', 'string'], description: 'Human-readable name of the image', maxLength: 255 },
  status: { type: 'string', readOnly: true, description: 'Lifecycle state of the image', enum: [...IMAGE_STATUSES] },
  visibility: { type: 'string', description: 'Who can see and use the image', enum: [...VISIBILITIES] },
  protected: { type: 'boolean', description: 'When true the image cannot be deleted' },
  os_hidden: { type: 'boolean', description: 'When true the image is left out of image lists by default' },
  checksum: { type: ['null', 'string'], readOnly: true, description: 'MD5 digest of the image data', maxLength: 32 },
  os_hash_algo: { type: ['null', 'string'], readOnly: true, description: 'Hash algorithm used for os_hash_value', maxLength: 64 },
  os_hash_value: {
    type: ['null', 'string'], readOnly: true, description: 'Hex digest of the image data computed with os_hash_algo', maxLength: 128,
  },
  owner: { type: ['null', 'string'], description: 'Project that owns the image', maxLength: 255 },
  size: { type: ['null', 'integer'], readOnly: true, description: 'Size of the image data in bytes' },
  virtual_size: { type: ['null', 'integer'], readOnly: true, description: 'Size of the virtual disk in bytes' },
  container_format: { type: ['null', 'string'], description: 'Container format of the image data', enum: [null, ...CONTAINER_FORMATS] },
  disk_format: { type: ['null', 'string'], description: 'Disk format of the image data', enum: [null, ...DISK_FORMATS] },
  created_at: { type: 'string', readOnly: true, description: 'When the image was created (ISO 8601)' },
  updated_at: { type: 'string', readOnly: true, description: 'When the image was last changed (ISO 8601)' },
  tags: { type: 'array', description: 'Free-form labels of the image', items: { type: 'string', maxLength: 255 } },
  direct_url: { type: 'string', readOnly: true, description: 'Location of the image data in its store' },
  min_ram: { type: 'integer', description: 'Memory (MiB) needed to boot the image' },
  min_disk: { type: 'integer', description: 'Disk space (GiB) needed to boot the image' },
  self: { type: 'string', readOnly: true, description: 'URL path of this image' },
  file: { type: 'string', readOnly: true, description: 'URL path of the image data' },
  stores: { type: 'string', readOnly: true, description: 'Comma-separated identifiers of the stores holding the data' },
  schema: { type: 'string', readOnly: true, description: 'URL path of this schema' },
  locations: {
    type: 'array',
    description: 'Store locations of the image data',
    items: {
      type: 'object',
      properties: {
        url: { type: 'string', maxLength: 255 },
        metadata: { type: 'object' },
        validation_data: {
          description: 'Hashes to set on a queued image; on other images they must equal the current ones',
          type: 'object',
          writeOnly: true,
          additionalProperties: false,
          properties: {
            checksum: { type: 'string', minLength: 32, maxLength: 32 },
            os_hash_algo: { type: 'string', maxLength: 64 },
            os_hash_value: { type: 'string', maxLength: 128 },
          },
          required: ['os_hash_algo', 'os_hash_value'],
        },
      },
      required: ['url', 'metadata'],
    },
  },
};

/** Well-known extra properties Glance's stock configuration describes (values are strings). */
const customProperties: Readonly<Record<string, PropertySchema>> = {
  kernel_id: {
    type: ['null', 'string'], pattern: UUID_PATTERN, is_base: false,
    description: 'Image to use as the kernel when booting this (AMI-style) image',
  },
  ramdisk_id: {
    type: ['null', 'string'], pattern: UUID_PATTERN, is_base: false,
    description: 'Image to use as the ramdisk when booting this (AMI-style) image',
  },
  instance_uuid: { type: 'string', is_base: false, description: 'Instance this image was taken from (informational only)' },
  architecture: { type: 'string', is_base: false, description: 'CPU architecture the image runs on (e.g. x86_64)' },
  os_distro: { type: 'string', is_base: false, description: 'Operating system distribution, in lower case (e.g. debian)' },
  os_version: { type: 'string', is_base: false, description: 'Operating system version as its distributor names it' },
  description: { type: 'string', is_base: false, description: 'Free-form description of the image' },
  cinder_encryption_key_id: {
    type: 'string', is_base: false, description: 'Key manager identifier of the key encrypting volumes made from this image',
  },
  cinder_encryption_key_deletion_policy: {
    type: 'string', is_base: false, enum: ['on_image_deletion', 'do_not_delete'],
    description: "When the image service deletes the key named by 'cinder_encryption_key_id'",
  },
};

/** Every named property of the image schema (base and custom). */
export const imageProperties: Readonly<Record<string, PropertySchema>> = { ...baseProperties, ...customProperties };

/** Names of the base (core) attributes, as opposed to extra properties. */
export const BASE_ATTRIBUTES: ReadonlySet<string> = new Set(Object.keys(baseProperties));

/** Schema every extra (non-named) property value must satisfy. */
export const EXTRA_PROPERTY_SCHEMA: PropertySchema = { type: 'string' };

/** The schema governing a property name: its own entry, or the one for extra properties. */
export function propertySchema(name: string): PropertySchema {
  return Object.hasOwn(imageProperties, name) ? imageProperties[name]! : EXTRA_PROPERTY_SCHEMA;
}

// Fresh deep copies: callers (and JSON serialisers) may mutate what they get.
const clone = <T>(v: T): T => structuredClone(v);

export function imageSchema(): Record<string, unknown> {
  return {
    additionalProperties: clone(EXTRA_PROPERTY_SCHEMA),
    name: 'image',
    links: [
      { rel: 'self', href: '{self}' },
      { rel: 'enclosure', href: '{file}' },
      { rel: 'describedby', href: '{schema}' },
    ],
    properties: clone(imageProperties),
  };
}

export function imagesSchema(): Record<string, unknown> {
  return {
    name: 'images',
    properties: {
      images: { type: 'array', items: imageSchema() },
      first: { type: 'string' },
      next: { type: 'string' },
      schema: { type: 'string' },
    },
    links: [
      { rel: 'first', href: '{first}' },
      { rel: 'next', href: '{next}' },
      { rel: 'describedby', href: '{schema}' },
    ],
  };
}

const memberProperties: Readonly<Record<string, PropertySchema>> = {
  member_id: { type: 'string', description: 'Project the image is shared with' },
  image_id: { type: 'string', description: 'The shared image', pattern: UUID_PATTERN },
  created_at: { type: 'string', description: 'When the membership was created (ISO 8601)' },
  updated_at: { type: 'string', description: 'When the membership was last changed (ISO 8601)' },
  status: { type: 'string', description: 'Whether the member accepted the image', enum: [...MEMBER_STATUSES] },
  schema: { readOnly: true, type: 'string' },
};

/** Glance serves the member schemas in their "minimal" form (no additionalProperties, no links). */
export function memberSchema(): Record<string, unknown> {
  return { name: 'member', properties: clone(memberProperties) };
}

export function membersSchema(): Record<string, unknown> {
  return {
    name: 'members',
    properties: {
      members: { type: 'array', items: memberSchema() },
      schema: { type: 'string' },
    },
    links: [{ rel: 'describedby', href: '{schema}' }],
  };
}

/** The documents by the path below `/v2/schemas/`; null for an unknown name (→ 404). */
export function schemaByName(name: string): Record<string, unknown> | null {
  switch (name) {
    case 'image': return imageSchema();
    case 'images': return imagesSchema();
    case 'member': return memberSchema();
    case 'members': return membersSchema();
    default: return null;
  }
}
