import type { FastifyRequest } from 'fastify';
import { baseUrl } from '../api/listing.js';
import type { GroupRow, ProjectRow, UserRow } from '../store/schema.js';
import { bool, parseJsonObject } from '../util.js';

/**
 * Key inside a project's `extra` JSON that holds its resource options (the schema has no
 * options column for projects); never accepted from, nor shown to, clients as an attribute.
 */
export const PROJECT_OPTIONS_KEY = '__nephos_options__';

/** The self link of an entity, as Keystone builds it: <base>/v3/<collection>/<id>. */
export const entityUrl = (req: FastifyRequest, collection: string, entityId: string): string =>
  `${baseUrl(req)}/v3/${collection}/${entityId}`;

/** Keystone's `_normalize_dict`: ':' and '-' in top-level attribute names become '_'. */
export function normalizeKeys(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    const key = k.replace(/[:-]/g, '_');
    if (key !== '__proto__') out[key] = v;
  }
  return out;
}

/** The attributes of a body that Keystone keeps in `extra` (everything it does not model). */
export function extrasOf(o: Record<string, unknown>, modelled: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(normalizeKeys(o))) {
    if (!modelled.includes(k) && k !== 'id' && k !== 'links' && k !== PROJECT_OPTIONS_KEY) out[k] = v;
  }
  return out;
}

/** A project row's options (immutable, ...). */
export const projectOptions = (row: Pick<ProjectRow, 'extra'>): Record<string, unknown> => {
  const o = parseJsonObject(row.extra)[PROJECT_OPTIONS_KEY];
  return o && typeof o === 'object' && !Array.isArray(o) ? { ...(o as Record<string, unknown>) } : {};
};

/** A project row's extra attributes, without the options. */
export const projectExtra = (row: Pick<ProjectRow, 'extra'>): Record<string, unknown> => {
  const e = parseJsonObject(row.extra);
  delete e[PROJECT_OPTIONS_KEY];
  return e;
};

/** Builds the `extra` column text of a project from its attributes and options. */
export const projectExtraText = (extra: Record<string, unknown>, options: Record<string, unknown>): string =>
  JSON.stringify(Object.keys(options).length ? { ...extra, [PROJECT_OPTIONS_KEY]: options } : extra);

/** A project as the API shows it (no links): domains show domain_id null, as in Keystone. */
export function projectRef(row: ProjectRow, tags: readonly string[]): Record<string, unknown> {
  return {
    ...projectExtra(row),
    id: row.id,
    name: row.name,
    domain_id: bool(row.is_domain) ? null : row.domain_id,
    description: row.description,
    enabled: bool(row.enabled),
    parent_id: row.parent_id,
    is_domain: bool(row.is_domain),
    tags: [...tags],
    options: projectOptions(row),
  };
}

/** A domain (a project acting as a domain) as the API shows it (no links). */
export function domainRef(row: ProjectRow, tags: readonly string[]): Record<string, unknown> {
  return {
    ...projectExtra(row),
    id: row.id,
    name: row.name,
    description: row.description,
    enabled: bool(row.enabled),
    tags: [...tags],
    options: projectOptions(row),
  };
}

/** Keystone's rendering of timestamps in entities: microseconds and no zone suffix. */
export const entityTime = (iso: string | null | undefined): string | null => (iso ? iso.replace(/Z$/, '') : null);

/** A user as the API shows it (no links); `passwordExpiresAt` is the current password's expiry. */
export function userRef(row: UserRow, passwordExpiresAt: string | null): Record<string, unknown> {
  const extra = parseJsonObject(row.extra);
  const out: Record<string, unknown> = {
    ...extra,
    id: row.id,
    name: row.name,
    domain_id: row.domain_id,
    enabled: bool(row.enabled),
    password_expires_at: entityTime(passwordExpiresAt),
    options: parseJsonObject(row.options),
  };
  if (row.default_project_id !== null) out.default_project_id = row.default_project_id;
  if (row.description !== null) out.description = row.description;
  if (row.email !== null) out.email = row.email;
  return out;
}

/** A group as the API shows it (no links). */
export function groupRef(row: GroupRow): Record<string, unknown> {
  return { ...parseJsonObject(row.extra), id: row.id, name: row.name, domain_id: row.domain_id, description: row.description };
}

/** Adds `links.self` to a rendered entity. */
export function withLink(req: FastifyRequest, collection: string, ref: Record<string, unknown>): Record<string, unknown> {
  const links = ref.links && typeof ref.links === 'object' && !Array.isArray(ref.links) ? ref.links as Record<string, unknown> : {};
  return { ...ref, links: { ...links, self: entityUrl(req, collection, String(ref.id)) } };
}
