import type { Identity } from './identity.js';
import { DOMAIN_ROOT, NULL_DOMAIN } from './store/schema.js';
import { newId, isoTime } from './util.js';

/** A service to put in the catalog: type, name and its URL (same for the three interfaces). */
export interface CatalogService { readonly type: string; readonly name: string; readonly url: string; readonly description?: string }

/** What bootstrap creates and needs to report. */
export interface BootstrapResult {
  readonly adminUserId: string;
  readonly adminProjectId: string;
  readonly demoUserId: string;
  readonly demoProjectId: string;
}

export interface BootstrapOptions {
  readonly adminPassword: string;
  readonly demoPassword: string;
  readonly region: string;
  /** Every service actually running; services not listed are removed from the catalog. */
  readonly services: readonly CatalogService[];
  /** Service users (one per service, in project `service` with role `admin`), name → password. */
  readonly serviceUsers?: Readonly<Record<string, string>>;
}

/**
 * Idempotent first-start bootstrap, like `keystone-manage bootstrap` plus DevStack's demo setup:
 * region, roles admin ⊃ member ⊃ reader, domain Default, projects admin/demo/service, users
 * admin/demo and service users, and catalog entries for exactly the running services.
 * Existing objects are kept (an admin's password is reset to the configured one, as Keystone does).
 */
export async function bootstrapIdentity(id: Identity, opts: BootstrapOptions): Promise<BootstrapResult> {
  const db = id.db;
  const now = isoTime();
  const domain = await db.selectFrom('project').select('id').where('id', '=', 'default').executeTakeFirst();
  if (!domain) {
    await db.insertInto('project').values({
      id: 'default', name: 'Default', domain_id: DOMAIN_ROOT, description: 'The default domain', enabled: 1,
      parent_id: null, is_domain: 1, extra: '{}', created_at: now,
    }).execute();
  }
  const role = async (name: string): Promise<string> => {
    const r = await db.selectFrom('role').select('id').where('name', '=', name).where('domain_id', '=', NULL_DOMAIN).executeTakeFirst();
    if (r) return r.id;
    const rid = newId();
    await db.insertInto('role').values({ id: rid, name, domain_id: NULL_DOMAIN, description: null, options: '{}', extra: '{}' }).execute();
    return rid;
  };
  const admin = await role('admin');
  const member = await role('member');
  const reader = await role('reader');
  for (const [prior, implied] of [[admin, member], [member, reader]]) {
    const has = await db.selectFrom('implied_role').select('prior_role_id').where('prior_role_id', '=', prior).where('implied_role_id', '=', implied).executeTakeFirst();
    if (!has) await db.insertInto('implied_role').values({ prior_role_id: prior, implied_role_id: implied }).execute();
  }
  const project = async (name: string, description: string): Promise<string> => {
    const p = await db.selectFrom('project').select('id').where('name', '=', name).where('domain_id', '=', 'default').executeTakeFirst();
    if (p) return p.id;
    const pid = newId();
    await db.insertInto('project').values({
      id: pid, name, domain_id: 'default', description, enabled: 1, parent_id: 'default', is_domain: 0, extra: '{}', created_at: now,
    }).execute();
    return pid;
  };
  const adminProject = await project('admin', 'Bootstrap project for initializing the cloud.');
  const demoProject = await project('demo', 'Demo project for trying the cloud as a regular member.');
  const serviceProject = await project('service', 'Project of the service users.');
  const user = async (name: string, password: string, defaultProject: string | null, resetPassword: boolean): Promise<string> => {
    const u = await db.selectFrom('user_account').select('id').where('name', '=', name).where('domain_id', '=', 'default').executeTakeFirst();
    const uid = u?.id ?? newId();
    if (!u) {
      await db.insertInto('user_account').values({
        id: uid, domain_id: 'default', name, enabled: 1, default_project_id: defaultProject, description: null, email: null,
        extra: '{}', options: '{}', created_at: now, last_active_at: null, failed_auth_count: 0, failed_auth_at: null,
      }).execute();
    }
    if (!u || resetPassword) {
      const current = await db.selectFrom('user_password').select('hash').where('user_id', '=', uid).orderBy('created_at', 'desc').limit(1).executeTakeFirst();
      if (!current || !(await id.verifyPassword(password, current.hash))) {
        await db.insertInto('user_password').values({ id: newId(), user_id: uid, hash: await id.hashPassword(password), created_at: isoTime(), expires_at: null, self_service: 0 }).execute();
      }
    }
    return uid;
  };
  const grant = async (actor: string, target: string, roleId: string, type: string) => {
    const has = await db.selectFrom('assignment').select('role_id')
      .where('type', '=', type).where('actor_id', '=', actor).where('target_id', '=', target).where('role_id', '=', roleId).where('inherited', '=', 0).executeTakeFirst();
    if (!has) await db.insertInto('assignment').values({ type, actor_id: actor, target_id: target, role_id: roleId, inherited: 0 }).execute();
  };
  const adminUser = await user('admin', opts.adminPassword, adminProject, true);
  await grant(adminUser, adminProject, admin, 'UserProject');
  await grant(adminUser, 'system', admin, 'UserSystem');
  const demoUser = await user('demo', opts.demoPassword, demoProject, true);
  await grant(demoUser, demoProject, member, 'UserProject');
  for (const [name, password] of Object.entries(opts.serviceUsers ?? {})) {
    const su = await user(name, password, serviceProject, true);
    await grant(su, serviceProject, admin, 'UserProject');
    await grant(su, serviceProject, reader, 'UserProject');
  }

  // Region and catalog: exactly the services that run.
  const region = await db.selectFrom('region').select('id').where('id', '=', opts.region).executeTakeFirst();
  if (!region) await db.insertInto('region').values({ id: opts.region, description: '', parent_region_id: null, extra: '{}' }).execute();
  const running = new Set(opts.services.map((s) => s.type));
  const existing = await db.selectFrom('catalog_service').selectAll().execute();
  for (const s of existing) {
    if (!running.has(s.type) && JSON.parse(s.extra || '{}').nephos_managed) {
      await db.deleteFrom('catalog_service').where('id', '=', s.id).execute();
    }
  }
  for (const s of opts.services) {
    let svc = existing.find((e) => e.type === s.type && e.name === s.name);
    if (!svc) {
      const sid = newId();
      await db.insertInto('catalog_service').values({ id: sid, type: s.type, name: s.name, description: s.description ?? null, enabled: 1, extra: JSON.stringify({ nephos_managed: true }) }).execute();
      svc = { id: sid } as never;
    }
    const endpoints = await db.selectFrom('endpoint').selectAll().where('service_id', '=', svc!.id).execute();
    for (const iface of ['public', 'internal', 'admin']) {
      const ep = endpoints.find((e) => e.interface === iface && e.region_id === opts.region);
      if (!ep) await db.insertInto('endpoint').values({ id: newId(), interface: iface, service_id: svc!.id, url: s.url, region_id: opts.region, enabled: 1, extra: '{}' }).execute();
      else if (ep.url !== s.url) await db.updateTable('endpoint').set({ url: s.url }).where('id', '=', ep.id).execute();
    }
  }
  id.changed();
  return { adminUserId: adminUser, adminProjectId: adminProject, demoUserId: demoUser, demoProjectId: demoProject };
}
