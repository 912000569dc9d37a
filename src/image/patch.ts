/**
 * `PATCH /v2/images/{id}`: parsing of the two JSON-patch dialects Glance accepts and their
 * application to an image, with Glance's semantics:
 * - `application/openstack-images-v2.1-json-patch`: RFC 6902 style `{"op", "path", "value"}`;
 *   `add` of an existing property replaces it.
 * - `application/openstack-images-v2.0-json-patch`: the older `{"replace": "/name", "value"}` form;
 *   `add` of an existing property is a 409.
 * Everything the request alone can tell (media type, shape, pointer syntax, read-only / reserved
 * names, value types) is checked by `parsePatch`; what depends on the image (existence of a
 * property, its status, the caller) by `applyPatch`.
 */
import { Fault, badRequest, conflict, forbidden } from '../platform/http/faults.js';
import { BASE_ATTRIBUTES, imageProperties } from './api/schemas.js';
import {
  type ImageCoreInput, READ_ONLY, checkExtraKey, checkMinimum, checkPropertyValue, countedProperties,
  isPlainObject, isReservedName, readOnlyFault, reservedFault, schemaViolation, setOwn, uniqueTags,
} from './properties.js';

export const PATCH_MEDIA_TYPES: Readonly<Record<string, 4 | 10>> = {
  'application/openstack-images-v2.0-json-patch': 4,
  'application/openstack-images-v2.1-json-patch': 10,
};
/** Value of the `Accept-Patch` header (sent with 415s; also useful on GET/OPTIONS). */
export const ACCEPT_PATCH = Object.keys(PATCH_MEDIA_TYPES).sort().join(', ');

const OPERATIONS = ['add', 'remove', 'replace'] as const;
export type PatchOpName = (typeof OPERATIONS)[number];

export interface PatchOp {
  readonly op: PatchOpName;
  /** Decoded JSON pointer tokens, e.g. `['name']` or `['locations', '0']`. */
  readonly path: readonly string[];
  /** Absent for `remove`. */
  readonly value?: unknown;
  /** 4 for the v2.0 dialect, 10 for v2.1 (Glance's JSON-schema draft numbers). */
  readonly draft: 4 | 10;
}

/** How deep a pointer may go per attribute and operation; everything else is one token deep. */
const PATH_DEPTH: Readonly<Record<string, Partial<Record<PatchOpName, number>>>> = {
  locations: { add: 2, remove: 2, replace: 1 },
};

/** The media type of a Content-Type header value, without parameters. */
const mediaType = (contentType: string | undefined): string => (contentType ?? '').split(';')[0]!.trim().toLowerCase();

/** 415 with the Accept-Patch header, as Glance answers an unknown patch media type. */
export function unsupportedPatchType(contentType: string | undefined): Fault {
  return new Fault(415, `The request media type ${contentType ?? ''} is not supported by this server.`,
    { 'Accept-Patch': ACCEPT_PATCH }, 'UnsupportedMediaType');
}

function validatePointer(pointer: string): void {
  const bad = (what: string): Fault => badRequest(`Pointer \`${pointer}\` ${what}`);
  if (!pointer.startsWith('/')) throw bad('does not start with "/".');
  if (/\/\s*?\//.test(pointer.slice(1))) throw bad('contains adjacent "/".');
  if (pointer.length > 1 && pointer.endsWith('/')) throw bad('end with "/".');
  if (pointer.slice(1).trim() === '/') throw bad('does not contains valid token.');
  if (/~[^01]/.test(pointer) || pointer.endsWith('~')) throw bad('contains "~" not part of a recognized escape sequence.');
}

/** JSON pointer → tokens (`~1` → `/`, then `~0` → `~`; tokens trimmed as Glance does). */
export function decodePointer(pointer: unknown): string[] {
  if (typeof pointer !== 'string') throw badRequest(`Pointer ${JSON.stringify(pointer)} is not a string.`);
  validatePointer(pointer);
  return pointer.replace(/^\/+/, '').split('/').map((t) => t.replaceAll('~1', '/').replaceAll('~0', '~').trim());
}

function operationOf(raw: Record<string, unknown>, draft: 4 | 10): { op: PatchOpName; pointer: unknown } {
  const available = OPERATIONS.join(', ');
  if (draft === 10) {
    const op = raw.op;
    if (op === undefined) {
      throw badRequest(`Unable to find \`op\` in JSON Schema change. It must be one of the following: ${available}.`);
    }
    if (typeof op !== 'string' || !(OPERATIONS as readonly string[]).includes(op)) {
      throw badRequest(`Invalid operation: \`${typeof op === 'string' ? op : JSON.stringify(op)}\`. `
        + `It must be one of the following: ${available}.`);
    }
    if (!Object.hasOwn(raw, 'path')) throw badRequest("Unable to find 'path' in JSON Schema change");
    return { op: op as PatchOpName, pointer: raw.path };
  }
  const present = OPERATIONS.filter((k) => Object.hasOwn(raw, k));
  if (present.length > 1) {
    throw badRequest('Operation objects must contain only one member named "add", "remove", or "replace".');
  }
  if (present.length === 0) {
    throw badRequest('Operation objects must contain exactly one member named "add", "remove", or "replace".');
  }
  return { op: present[0]!, pointer: raw[present[0]!] };
}

/** The request-only checks Glance makes on one change (its `_validate_change`). */
function validateChange(op: PatchOpName, path: readonly string[], value: unknown): void {
  const root = path[0]!;
  if (READ_ONLY.has(root)) throw readOnlyFault(root);
  if (isReservedName(root)) throw reservedFault(root);
  if (!BASE_ATTRIBUTES.has(root)) checkExtraKey(root);
  if (op === 'remove') return;
  if (path.length === 1) {
    checkPropertyValue(root, value);
  } else {
    // Only arrays reach here (locations/N): the value is one element of the array.
    const items = Object.hasOwn(imageProperties, root) ? imageProperties[root]!.items : undefined;
    const bad = items ? schemaViolation(items, value) : null;
    if (bad) throw badRequest(`Provided object does not match schema 'image': ${bad}`);
  }
}

/**
 * Parses a PATCH body (already JSON-decoded; `undefined` when there was none) sent with
 * `contentType`. 415 for other media types; 400 for malformed changes or values; 403 for
 * read-only and reserved attributes.
 */
export function parsePatch(body: unknown, contentType: string | undefined): PatchOp[] {
  const type = mediaType(contentType);
  if (!Object.hasOwn(PATCH_MEDIA_TYPES, type)) throw unsupportedPatchType(contentType);
  const draft = PATCH_MEDIA_TYPES[type]!;
  if (body === undefined) throw badRequest('Body expected in request.');
  if (!Array.isArray(body)) throw badRequest('Request body must be a JSON array of operation objects.');

  return body.map((raw: unknown): PatchOp => {
    if (!isPlainObject(raw)) throw badRequest('Operations must be JSON objects.');
    const { op, pointer } = operationOf(raw, draft);
    const path = decodePointer(pointer);
    const depth = (Object.hasOwn(PATH_DEPTH, path[0]!) ? PATH_DEPTH[path[0]!]![op] : undefined) ?? 1;
    if (path.length !== depth) throw badRequest(`Invalid JSON pointer for this resource: '/${path.join('/')}'`);
    if (op === 'remove') {
      validateChange(op, path, undefined);
      return { op, path, draft };
    }
    if (!Object.hasOwn(raw, 'value')) throw badRequest(`Operation "${op}" requires a member named "value".`);
    validateChange(op, path, raw.value);
    return { op, path, value: raw.value, draft };
  });
}

/** The image as `applyPatch` needs it: Glance's JSON view (core attributes and extra properties side by side). */
export type PatchableImage = object & { readonly status: string };

export interface PatchOptions {
  /** Admins may change `owner`. */
  readonly isAdmin?: boolean;
  /** The image's stored extra properties when the view hides some (os_glance_stage_host); default: taken from the view. */
  readonly extra?: Readonly<Record<string, string>>;
}

/** What a patch changes, for the caller to authorise (visibility, quotas) and persist. */
export interface PatchResult {
  /** Core attributes whose value changed, with their new values. */
  readonly core: Partial<Omit<ImageCoreInput, 'id'>>;
  /** The complete new tag list when it changed, else null. */
  readonly tags: string[] | null;
  /** The complete resulting extra properties. */
  readonly extra: Record<string, string>;
  /** Extra properties added or given a different value. */
  readonly setExtra: Record<string, string>;
  /** Extra properties the image had and no longer has. */
  readonly removedExtra: string[];
  /** True when a property the image did not have was added: Glance checks the property quota only then. */
  readonly addedNewProperties: boolean;
  /** Resulting number of extra properties counted by `image_property_quota` (os_glance_* excluded). */
  readonly propertyCount: number;
  /** False when every operation left the image as it was (Glance still saves, bumping updated_at). */
  readonly changed: boolean;
}

/** Core attributes a PATCH may set (the other base attributes are read-only or `locations`). */
const SETTABLE = new Set(['name', 'visibility', 'protected', 'os_hidden', 'min_ram', 'min_disk',
  'disk_format', 'container_format', 'owner', 'tags']);
/** disk_format/container_format may only change while no data is attached. */
const FORMAT_MUTABLE_STATUSES = new Set(['queued', 'importing']);

/** Tags are a set: order is not a change. */
const sameTags = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && b.every((t) => a.includes(t));

/** Extra properties of a Glance image view: every key that is not a base attribute. */
function extraOf(view: Record<string, unknown>): Record<string, string> {
  const extra: Record<string, string> = {};
  for (const [k, v] of Object.entries(view)) {
    if (!BASE_ATTRIBUTES.has(k) && v !== undefined && v !== null) setOwn(extra, k, typeof v === 'string' ? v : String(v));
  }
  return extra;
}

function locationsFault(op: PatchOpName, value: unknown): Fault {
  if (op === 'replace') {
    const empty = value === null || value === '' || value === false || (Array.isArray(value) && value.length === 0);
    return forbidden(empty ? 'Cannot set locations to empty list.'
      : "It's not allowed to update locations if locations are invisible.");
  }
  return forbidden(`It's not allowed to ${op} locations if locations are invisible.`);
}

/**
 * Applies parsed operations, in order, to `image` (its Glance JSON view). Throws 403 for removing a
 * core attribute, changing formats of an image with data, any `locations` operation (this cloud
 * does not expose locations) and `owner` changes by non-admins; 409 for replacing/removing a
 * property the image lacks (and, in the v2.0 dialect, adding one it has); 400 for values the
 * domain refuses (negative min_ram, …). Quotas and visibility policy are the caller's.
 */
export function applyPatch(image: PatchableImage, ops: readonly PatchOp[], opts: PatchOptions = {}): PatchResult {
  const view = image as Record<string, unknown>;
  const before = opts.extra ? { ...opts.extra } : extraOf(view);
  const extra: Record<string, string> = { ...before };
  const tagsBefore = Array.isArray(view.tags) ? (view.tags as string[]) : [];
  let tags = [...tagsBefore];
  const core: Record<string, unknown> = {};

  const setCore = (name: string, value: unknown): void => {
    if ((name === 'disk_format' || name === 'container_format') && !FORMAT_MUTABLE_STATUSES.has(image.status)) {
      throw forbidden(`Attribute ${name} can be only replaced for a queued image.`);
    }
    if (name === 'owner' && opts.isAdmin !== true) throw forbidden("Owner can't be updated by non admin.");
    if (name === 'min_ram' || name === 'min_disk') checkMinimum(name, value as number);
    if (name === 'tags') tags = uniqueTags(value as string[]);
    else core[name] = value;
  };
  // A nullable custom property (kernel_id, ramdisk_id) set to null means "not set".
  const setExtra = (name: string, value: unknown): void => {
    if (value === null) delete extra[name];
    else setOwn(extra, name, value as string);
  };

  for (const { op, path, value, draft } of ops) {
    const root = path[0]!;
    if (root === 'locations') throw locationsFault(op, value);
    const isCore = SETTABLE.has(root);
    const hasExtra = Object.hasOwn(extra, root);
    switch (op) {
      case 'replace':
        if (isCore) setCore(root, value);
        else if (hasExtra) setExtra(root, value);
        else throw conflict(`Property ${root} does not exist.`);
        break;
      case 'add':
        if (draft === 4 && (isCore || hasExtra)) throw conflict(`Property ${root} already present.`);
        if (isCore) setCore(root, value);
        else setExtra(root, value);
        break;
      case 'remove':
        if (isCore || BASE_ATTRIBUTES.has(root)) throw forbidden(`Property ${root} may not be removed.`);
        if (!hasExtra) throw conflict(`Property ${root} does not exist.`);
        delete extra[root];
        break;
    }
  }

  const changedCore: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(core)) if (v !== view[k] || !Object.hasOwn(view, k)) changedCore[k] = v;
  const setExtraOut: Record<string, string> = {};
  for (const [k, v] of Object.entries(extra)) if (!Object.hasOwn(before, k) || before[k] !== v) setOwn(setExtraOut, k, v);
  const removedExtra = Object.keys(before).filter((k) => !Object.hasOwn(extra, k));
  const tagsChanged = !sameTags(tags, tagsBefore);
  return {
    core: changedCore as PatchResult['core'],
    tags: tagsChanged ? tags : null,
    extra,
    setExtra: setExtraOut,
    removedExtra,
    addedNewProperties: Object.keys(extra).some((k) => !Object.hasOwn(before, k)),
    propertyCount: countedProperties(extra),
    changed: Object.keys(changedCore).length > 0 || Object.keys(setExtraOut).length > 0 || removedExtra.length > 0 || tagsChanged,
  };
}
