import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Identity } from '../identity.js';
import { notFound } from '../../platform/http/faults.js';
import {
  type DomainConfig, WHITELISTED_OPTIONS, assertValidConfig, assertValidGroupAndOption, configNotFound, defaultOption,
  describePart, invalidConfig,
} from '../domain-config/options.js';
import { deleteOptions, getDomainConfig, listOptions, replaceConfig, toConfig, upsertOptions } from '../domain-config/store.js';

export { getDomainConfig } from '../domain-config/store.js';

/** Keystone serves security compliance settings for the default domain only. */
const DEFAULT_DOMAIN_ID = 'default';
const READABLE_COMPLIANCE = ['password_regex', 'password_regex_description'] as const;

type Params = { domain_id: string; group?: string; option?: string };

const domainExists = async (id: Identity, domainId: string): Promise<boolean> =>
  !!(await id.db.selectFrom('project').select('id').where('id', '=', domainId).where('is_domain', '=', 1).executeTakeFirst());

async function requireDomain(id: Identity, domainId: string): Promise<void> {
  if (!(await domainExists(id, domainId))) throw notFound(`Could not find domain: ${domainId}.`);
}

/** The `config` object of a request body (Keystone reads a missing one as {}). */
function configOf(req: FastifyRequest): unknown {
  const b = req.body;
  return b && typeof b === 'object' && !Array.isArray(b) ? ((b as Record<string, unknown>).config ?? {}) : {};
}

/** One option's value alone ({option: value}) when asked for an option, else the config. */
function narrow(config: DomainConfig, group?: string, option?: string): Record<string, unknown> {
  return option && group ? { [option]: config[group]?.[option] } : config;
}

/** Keystone's `get_config`: whitelisted options only; 404 when nothing matches. */
async function readConfig(id: Identity, domainId: string, group?: string, option?: string): Promise<Record<string, unknown>> {
  assertValidGroupAndOption(group, option);
  const list = await listOptions(id, domainId, false, group, option);
  if (list.length === 0) throw configNotFound(domainId, describePart(group, option));
  return narrow(toConfig(list), group, option);
}

/** Keystone's `get_security_compliance_config`, from this server's [identity] settings. */
function complianceConfig(id: Identity, domainId: string, option?: string): Record<string, unknown> {
  if (domainId !== DEFAULT_DOMAIN_ID) {
    throw invalidConfig('Reading security compliance information for any domain other than the default domain is not allowed or supported');
  }
  const readable: readonly string[] = READABLE_COMPLIANCE;
  if (option && !readable.includes(option)) {
    throw invalidConfig('Reading security compliance values other than password_regex and password_regex_description is not allowed');
  }
  const values: Record<string, unknown> = {
    password_regex: id.config.identity.password_regex ?? null,
    password_regex_description: id.config.identity.password_regex_description ?? null,
  };
  if (option) return { [option]: values[option] };
  return { security_compliance: values };
}

/** Keystone's `update_config` checks for a group- or option-level PATCH. */
async function assertValidUpdate(id: Identity, domainId: string, config: DomainConfig, group?: string, option?: string): Promise<void> {
  assertValidConfig(config);
  assertValidGroupAndOption(group, option);
  if (!group) return;
  if (Object.keys(config).length !== 1 || (option && Object.keys(config[group] ?? {}).length !== 1)) {
    throw invalidConfig(option
      ? `Trying to update option ${option} in group ${group}, so that, and only that, option must be specified  in the config`
      : `Trying to update group ${group}, so that, and only that, group must be specified in the config`);
  }
  if (!(group in config)) {
    throw invalidConfig(`request to update group ${group}, but config provided contains group ${Object.keys(config)[0]} instead`);
  }
  if (option && !(option in config[group])) {
    throw invalidConfig(`Trying to update option ${option} in group ${group}, but config provided contains option ${Object.keys(config[group])[0]} instead`);
  }
  const existing = [...(await listOptions(id, domainId, false, group, option)), ...(await listOptions(id, domainId, true, group, option))];
  if (existing.length === 0) throw configNotFound(domainId, describePart(group, option));
}

/** Domain-specific configuration (/v3/domains/{id}/config…) and the server defaults behind it. */
export function register(app: FastifyInstance, id: Identity): void {
  const paths = ['/v3/domains/:domain_id/config', '/v3/domains/:domain_id/config/:group', '/v3/domains/:domain_id/config/:group/:option'];

  for (const path of paths) {
    app.get<{ Params: Params }>(path, async (req) => {
      const { domain_id: domainId, group, option } = req.params;
      // Keystone checks policy before revealing whether the domain exists.
      const exists = await domainExists(id, domainId);
      let config: Record<string, unknown>;
      if (group === 'security_compliance') {
        await id.authorize(req, 'identity:get_security_compliance_domain_config');
        config = complianceConfig(id, domainId, option);
      } else {
        await id.authorize(req, 'identity:get_domain_config');
        config = await readConfig(id, domainId, group, option);
      }
      if (!exists) throw notFound(`Could not find domain: ${domainId}.`);
      return { config };
    });

    app.patch<{ Params: Params }>(path, async (req) => {
      await id.authorize(req, 'identity:update_domain_config');
      const { domain_id: domainId, group, option } = req.params;
      await requireDomain(id, domainId);
      const body = configOf(req);
      const update = (group && option ? { [group]: body } : body) as DomainConfig;
      await assertValidUpdate(id, domainId, update, group, option);
      await upsertOptions(id, domainId, update);
      return { config: await readConfig(id, domainId) };
    });

    app.delete<{ Params: Params }>(path, async (req, reply) => {
      await id.authorize(req, 'identity:delete_domain_config');
      const { domain_id: domainId, group, option } = req.params;
      await requireDomain(id, domainId);
      assertValidGroupAndOption(group, option);
      if (group) {
        const current = (await getDomainConfig(id, domainId))[group];
        if (!current || Object.keys(current).length === 0) throw configNotFound(domainId, describePart(group));
        if (option && !Object.hasOwn(current, option)) throw configNotFound(domainId, describePart(group, option));
      }
      await deleteOptions(id, domainId, group, option);
      reply.status(204).send();
    });
  }

  app.put<{ Params: Params }>('/v3/domains/:domain_id/config', async (req, reply) => {
    await id.authorize(req, 'identity:create_domain_config');
    const domainId = req.params.domain_id;
    await requireDomain(id, domainId);
    const config = configOf(req);
    const hadConfig = Object.keys(await getDomainConfig(id, domainId)).length > 0;
    assertValidConfig(config);
    await replaceConfig(id, domainId, config);
    reply.status(hadConfig ? 200 : 201);
    return { config: toConfig(await listOptions(id, domainId, false)) };
  });

  const defaults = async (req: FastifyRequest, group?: string, option?: string) => {
    await id.authorize(req, 'identity:get_domain_config_default');
    assertValidGroupAndOption(group, option);
    if (group && option) {
      if (!WHITELISTED_OPTIONS[group].includes(option)) {
        throw invalidConfig(`Reading the default for option ${option} in group ${group} is not supported`);
      }
      return { config: { [option]: defaultOption(id, group, option) } };
    }
    const config: DomainConfig = {};
    for (const g of group ? [group] : Object.keys(WHITELISTED_OPTIONS)) {
      config[g] = Object.fromEntries(WHITELISTED_OPTIONS[g].map((o) => [o, defaultOption(id, g, o)]));
    }
    return { config };
  };
  app.get('/v3/domains/config/default', async (req) => defaults(req));
  app.get<{ Params: { group: string } }>('/v3/domains/config/:group/default', async (req) => defaults(req, req.params.group));
  app.get<{ Params: { group: string; option: string } }>('/v3/domains/config/:group/:option/default', async (req) => defaults(req, req.params.group, req.params.option));
}
