/** Creating and updating domains (projects acting as domains), shared by /v3/domains and /v3/projects. */
import { badRequest, forbidden } from '../../platform/http/faults.js';
import type { Identity } from '../identity.js';
import { DOMAIN_ROOT, type ProjectRow } from '../store/schema.js';
import { bool, int, isoTime } from '../util.js';
import { deleteDomainCascade } from './cascade.js';
import { storeOrConflict } from './conflict.js';
import { Effects } from './effects.js';
import { projectExtra, projectExtraText, projectOptions } from './entity.js';
import { loadProject, replaceTags } from './project-store.js';
import { mergeOptions } from './schema.js';

/** Keystone's reserved name (and id) of the federated pseudo-domain. */
const FEDERATED_DOMAIN = 'federated';

/** Rejects the reserved federated domain name or id, as Keystone's `assert_domain_not_federated`. */
export function assertNotFederated(domainId: string, name: string | undefined): void {
  if (name !== undefined && name.toLowerCase() === FEDERATED_DOMAIN) throw badRequest(`Domain cannot be named ${name}`);
  if (domainId.toLowerCase() === FEDERATED_DOMAIN) throw badRequest(`Domain cannot have ID ${domainId}`);
}

/** Validated attributes of a new domain. */
export interface NewDomain {
  id: string; name: string; description: string | null | undefined; enabled: boolean | undefined;
  tags: string[] | undefined; options: Record<string, unknown> | undefined; extra: Record<string, unknown>;
}

/** Inserts a domain; 409 on a duplicate name. Returns the stored row. */
export async function createDomain(id: Identity, d: NewDomain): Promise<ProjectRow> {
  assertNotFederated(d.id, d.name);
  const options = mergeOptions({}, d.options ?? {});
  const row: ProjectRow = {
    id: d.id, name: d.name.trim(), domain_id: DOMAIN_ROOT, description: d.description ?? '', enabled: int(d.enabled ?? true),
    parent_id: null, is_domain: 1, extra: projectExtraText(d.extra, options), created_at: isoTime(),
  };
  const detail = `it is not permitted to have two projects acting as domains with the same name: ${row.name}`;
  await storeOrConflict('project', detail, () => id.db.transaction().execute(async (trx) => {
    await trx.insertInto('project').values(row).execute();
    if (d.tags?.length) await replaceTags(trx, row.id, d.tags.map((t) => t.trim()));
  }));
  const fx = new Effects();
  fx.notify('identity.domain.created', row.id);
  await fx.apply(id);
  return row;
}

/** Keystone's immutable-resource rule: only a change of `options.immutable` to false/null alone. */
export function assertMutable(row: ProjectRow, update: Record<string, unknown>, type: string): void {
  if (projectOptions(row).immutable !== true) return;
  const opts = update.options as Record<string, unknown> | undefined;
  const onlyUnset = Object.keys(update).length === 1 && opts && 'immutable' in opts && (opts.immutable === false || opts.immutable === null);
  if (!onlyUnset) {
    throw forbidden(`Unable to update immutable ${type} resource: \`${row.id}. Set resource option "immutable" to false first.`);
  }
}

/** The changes of a domain update, validated. */
export interface DomainChanges {
  name?: string; description?: string | null; enabled?: boolean; tags?: string[];
  options?: Record<string, unknown>; extra: Record<string, unknown>;
}

/**
 * Updates a domain row: name, description, enabled, tags, options, extra attributes. Disabling
 * revokes the domain's tokens. 409 on a duplicate name.
 */
export async function updateDomain(id: Identity, row: ProjectRow, c: DomainChanges, raw: Record<string, unknown>): Promise<ProjectRow> {
  assertMutable(row, raw, 'domain');
  assertNotFederated(row.id, c.name);
  const name = c.name !== undefined ? c.name.trim() : row.name;
  const extra = { ...projectExtra(row), ...c.extra };
  const options = c.options ? mergeOptions(projectOptions(row), c.options) : projectOptions(row);
  const enabled = c.enabled ?? bool(row.enabled);
  const detail = `it is not permitted to have two projects acting as domains with the same name: ${name}`;
  await storeOrConflict('project', detail, () => id.db.transaction().execute(async (trx) => {
    await trx.updateTable('project').set({
      name, description: c.description === undefined ? row.description : c.description ?? '', enabled: int(enabled),
      extra: projectExtraText(extra, options),
    }).where('id', '=', row.id).execute();
    if (c.tags) await replaceTags(trx, row.id, c.tags.map((t) => t.trim()));
  }));
  const fx = new Effects();
  fx.notify('identity.project.updated', row.id);
  fx.notify('identity.domain.updated', row.id);
  if (bool(row.enabled) && !enabled) {
    fx.domains.add(row.id);
    fx.notify('identity.domain.disabled', row.id);
  }
  await fx.apply(id);
  return (await loadProject(id.db, row.id))!;
}

/** Keystone's `_delete_domain`: immutable and enabled domains cannot be deleted; the rest cascades. */
export async function deleteDomain(id: Identity, row: ProjectRow): Promise<void> {
  if (projectOptions(row).immutable === true) {
    throw forbidden(`Unable to delete immutable domain resource: \`${row.id}. Set resource option "immutable" to false first.`);
  }
  if (bool(row.enabled)) throw forbidden('Cannot delete a domain that is enabled, please disable it first.');
  const fx = new Effects();
  await id.db.transaction().execute((trx) => deleteDomainCascade(trx, row.id, fx));
  await fx.apply(id);
}
