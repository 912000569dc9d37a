import { mkdirSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Config } from '../platform/config/config.js';
import { openDatabase, type Database } from '../platform/db/connect.js';
import { createIdentityService, type IdentityService } from '../identity/service.js';
import { bootstrapIdentity, type CatalogService } from '../identity/bootstrap.js';
import { persistentSecret } from '../platform/secrets.js';
import { createBus, type Bus } from '../platform/bus/index.js';
import { inProcessValidator } from '../platform/auth/index.js';
import { createImageService, type ImageService } from '../image/service.js';
import { uploadGuestImages } from '../image/guest-upload.js';
import { createNetworkService, type NetworkService } from '../network/service.js';
import { startInProcessAgent } from '../network/agent/in-process.js';
import { ensureDefaultTopology } from '../network/defaults.js';
import { createPlacementService, type PlacementService } from '../placement/service.js';
import { InProcessPlacement } from '../placement/client.js';
import type { ServersRuntime } from '../compute/servers/runtime.js';
import { createComputeService, type ComputeService } from '../compute/service.js';
import { ensureDefaultFlavors } from '../compute/defaults.js';
import { findProject } from '../identity/assignments/refs.js';

/** The all-in-one cloud: every service of this build in one process. */
export interface Cloud {
  readonly config: Config;
  readonly identity: IdentityService;
  readonly image: ImageService;
  readonly network: NetworkService;
  readonly placement: PlacementService;
  readonly compute: ComputeService;
  /** Servers of the compute service: its agents and metadata service (absent when compute does not serve them). */
  readonly servers?: ServersRuntime;
  /** The message bus (in-process, or RabbitMQ when bus.url says amqp://). */
  readonly bus: Bus;
  /** Public URLs of the running services (what the catalog advertises). */
  readonly services: readonly CatalogService[];
  readonly adminPassword: string;
  readonly demoPassword: string;
  close(): Promise<void>;
}

export const REGION = 'RegionOne';

/** Catalog entries for the services this process runs. */
export function runningServices(cfg: Config): CatalogService[] {
  const host = cfg.platform.public_host;
  return [
    { type: 'identity', name: 'keystone', url: `http://${host}:${cfg.identity.port}/v3`, description: 'Nephos identity' },
    // Glance's catalog URL has no version suffix: clients discover /v2 from the version document.
    { type: 'image', name: 'glance', url: `http://${host}:${cfg.image.port}`, description: 'Nephos image' },
    // Neutron's catalog URL has no version suffix either (clients discover /v2.0).
    { type: 'network', name: 'neutron', url: `http://${host}:${cfg.network.port}`, description: 'Nephos network' },
    // Placement's catalog URL has no version suffix (clients negotiate microversions at its root).
    { type: 'placement', name: 'placement', url: `http://${host}:${cfg.placement.port}`, description: 'Nephos placement' },
    // Nova's catalog URL names the version; the project id is optional in its URLs (2.18).
    { type: 'compute', name: 'nova', url: `http://${host}:${cfg.compute.port}/v2.1`, description: 'Nephos compute' },
  ];
}

/** The admin and demo passwords (configured, or generated once into the state directory). */
export function cloudPasswords(cfg: Config): { admin: string; demo: string } {
  return {
    admin: persistentSecret(cfg.platform.state_dir, 'admin-password', cfg.identity.admin_password),
    demo: persistentSecret(cfg.platform.state_dir, 'demo-password', cfg.identity.demo_password),
  };
}

/** Passwords of the service users (one per service, generated once into the state directory). */
export function serviceUserPasswords(cfg: Config): Record<string, string> {
  return {
    glance: persistentSecret(cfg.platform.state_dir, 'glance-password', null),
    neutron: persistentSecret(cfg.platform.state_dir, 'neutron-password', null),
    placement: persistentSecret(cfg.platform.state_dir, 'placement-password', null),
    nova: persistentSecret(cfg.platform.state_dir, 'nova-password', null),
  };
}

/**
 * Opens the database, migrates, builds every service, bootstraps (idempotent) and, unless
 * `listen` is false, starts the APIs on their ports.
 */
export async function startCloud(cfg: Config, log: Logger, opts: { listen?: boolean } = {}): Promise<Cloud> {
  mkdirSync(cfg.platform.state_dir, { recursive: true, mode: 0o700 });
  const database: Database = await openDatabase(cfg.database.url!);
  let identity: IdentityService | undefined;
  let image: ImageService | undefined;
  let network: NetworkService | undefined;
  let placement: PlacementService | undefined;
  let compute: ComputeService | undefined;
  let bus: Bus | undefined;
  try {
    bus = await createBus(cfg.bus.url ?? undefined, { logger: log.child({ component: 'bus' }), publisherId: 'identity' });
    const notifier = bus;
    // Notifications are best effort: an unreachable broker never fails an API call.
    const notify = (eventType: string, payload: Record<string, unknown>) => {
      notifier.notify(eventType, payload).catch((err) => log.warn({ err, eventType }, 'notification not sent'));
    };
    identity = await createIdentityService(cfg, database, log, notify);
    const passwords = cloudPasswords(cfg);
    const services = runningServices(cfg);
    const boot = await bootstrapIdentity(identity.identity, {
      adminPassword: passwords.admin, demoPassword: passwords.demo, region: REGION, services, serviceUsers: serviceUserPasswords(cfg),
    });
    const identityUri = services.find((s) => s.type === 'identity')!.url;
    image = await createImageService(cfg, database, log, { validator: inProcessValidator(identity.tokens, { identityUri }), notify });
    network = await createNetworkService(cfg, database, log, { validator: inProcessValidator(identity.tokens, { identityUri }), notify, bus });
    if (cfg.network.create_defaults) await ensureDefaultTopology(network.ctx, boot);
    placement = await createPlacementService(cfg, database, log, { validator: inProcessValidator(identity.tokens, { identityUri }), notify });
    const idn = identity.identity;
    const serviceUrl = (type: string) => services.find((s) => s.type === type)!.url;
    compute = await createComputeService(cfg, database, log, {
      validator: inProcessValidator(identity.tokens, { identityUri }), notify,
      projectExists: async (projectId) => { const p = await findProject(idn, projectId); return p !== undefined && !p.is_domain; },
      servers: {
        placement: new InProcessPlacement(placement.ctx), identityUrl: identityUri, imageUrl: serviceUrl('image'), networkUrl: serviceUrl('network'),
        novaPassword: serviceUserPasswords(cfg).nova!,
      },
    });
    if (cfg.compute.create_defaults) await ensureDefaultFlavors(compute.ctx);
    if (opts.listen !== false) {
      await identity.app.listen({ host: cfg.platform.bind_host, port: cfg.identity.port });
      await image.app.listen({ host: cfg.platform.bind_host, port: cfg.image.port });
      await network.app.listen({ host: cfg.platform.bind_host, port: cfg.network.port });
      await placement.app.listen({ host: cfg.platform.bind_host, port: cfg.placement.port });
      await compute.app.listen({ host: cfg.platform.bind_host, port: cfg.compute.port });
    }
    log.info({ services: services.map((s) => s.url) }, 'cloud started');
    const svc = identity;
    const img = image;
    const net = network;
    const plc = placement;
    const cmp = compute;
    const openBus = bus;
    // First start: the Nephos guest images, built and uploaded in the background (idempotent by name).
    const stopGuestUpload = new AbortController();
    // The network agent of this host converges bridges, firewalls, DHCP and routers (only when
    // serving: an in-process harness starts its own with a test host name).
    const netAgent = opts.listen !== false && cfg.network.agent_enabled ? await startInProcessAgent(net.ctx) : undefined;
    // The compute agent of this host (its VMs' QEMUs outlive it) and the metadata service.
    if (opts.listen !== false && cmp.servers) {
      await cmp.servers.startMetadata({
        host: cfg.platform.bind_host, port: cfg.compute.metadata_port,
        sharedSecret: persistentSecret(cfg.platform.state_dir, 'metadata-proxy-secret', cfg.network.metadata_proxy_shared_secret),
      });
      await cmp.servers.startControlServices();
      if (cfg.compute.agent_enabled) await cmp.servers.startAgent();
    }
    if (opts.listen !== false && cfg.image.upload_guest) {
      uploadGuestImages(img.ctx, { ownerProjectId: boot.adminProjectId, signal: stopGuestUpload.signal })
        .catch((err: unknown) => { if (!stopGuestUpload.signal.aborted) log.warn({ err }, 'nephos-guest images not uploaded'); });
    }
    return {
      config: cfg, identity: svc, image: img, network: net, placement: plc, compute: cmp, servers: cmp.servers, bus: openBus, services, adminPassword: passwords.admin, demoPassword: passwords.demo,
      close: async () => {
        stopGuestUpload.abort();
        await netAgent?.stop();
        await cmp.close();
        await net.close();
        await plc.close();
        await img.close();
        await svc.app.close();
        await openBus.close();
        await database.close();
      },
    };
  } catch (err) {
    await compute?.close().catch(() => undefined);
    await placement?.close().catch(() => undefined);
    await network?.close().catch(() => undefined);
    await image?.close().catch(() => undefined);
    await identity?.app.close().catch(() => undefined);
    await bus?.close().catch(() => undefined);
    await database.close().catch(() => undefined);
    throw err;
  }
}
