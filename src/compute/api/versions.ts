/**
 * The version documents (`/` lists v2.0 and v2.1; `/v2.1/` and the legacy `/v2/` describe
 * themselves, with the microversion range) and the legacy extension list, limited to what this
 * service serves.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { formatVersion } from '../../platform/http/microversion.js';
import { notFound } from '../faults.js';
import { MAX_VERSION, MIN_VERSION, requestedVersion } from './http.js';
import type { ComputeRoutes } from './http.js';
import { params } from './http.js';

const DOCS = 'http://docs.openstack.org/';

interface VersionInfo { id: string; status: string; version: string; min_version: string; updated: string; mediaType: string; path: string }

const VERSIONS: readonly VersionInfo[] = [
  { id: 'v2.0', status: 'DEPRECATED', version: '', min_version: '', updated: '2011-01-21T11:33:21Z', mediaType: 'application/vnd.openstack.compute+json;version=2', path: 'v2' },
  {
    id: 'v2.1', status: 'CURRENT', version: formatVersion(MAX_VERSION), min_version: formatVersion(MIN_VERSION), updated: '2013-07-23T11:33:21Z',
    mediaType: 'application/vnd.openstack.compute+json;version=2.1', path: 'v2.1',
  },
];

const origin = (req: FastifyRequest): string => `${req.protocol}://${req.headers.host ?? 'localhost'}`;

function versionDoc(req: FastifyRequest, v: VersionInfo): Record<string, unknown> {
  return {
    id: v.id, status: v.status, version: v.version, min_version: v.min_version, updated: v.updated,
    links: [{ rel: 'self', href: `${origin(req)}/${v.path}/` }, { rel: 'describedby', type: 'text/html', href: DOCS }],
    'media-types': [{ base: 'application/json', type: v.mediaType }],
  };
}

/** The extensions of the legacy v2 API that this service covers (for clients that still ask). */
const EXTENSIONS: readonly { alias: string; name: string; description: string }[] = [
  { alias: 'os-aggregates', name: 'Aggregates', description: 'Admin-only aggregate administration.' },
  { alias: 'os-availability-zone', name: 'AvailabilityZone', description: '1. Add availability_zone to the Create Server API. 2. Add availability zones describing.' },
  { alias: 'os-flavor-access', name: 'FlavorAccess', description: 'Flavor access support.' },
  { alias: 'os-flavor-extra-specs', name: 'FlavorExtraSpecs', description: 'Flavors extra specs support.' },
  { alias: 'os-flavor-manage', name: 'FlavorManage', description: 'Flavor create/delete API support.' },
  { alias: 'OS-FLV-DISABLED', name: 'FlavorDisabled', description: 'Support to show the disabled status of a flavor.' },
  { alias: 'OS-FLV-EXT-DATA', name: 'FlavorExtraData', description: 'Provide additional data for flavors.' },
  { alias: 'os-flavor-rxtx', name: 'FlavorRxtx', description: 'Support to show the rxtx status of a flavor.' },
  { alias: 'os-flavor-swap', name: 'FlavorSwap', description: 'Support to show the swap status of a flavor.' },
  { alias: 'flavors', name: 'Flavors', description: 'Flavors Extension.' },
  { alias: 'os-hypervisors', name: 'Hypervisors', description: 'Admin-only hypervisor administration.' },
  { alias: 'os-hypervisor-status', name: 'HypervisorStatus', description: 'Show hypervisor status.' },
  { alias: 'os-extended-hypervisors', name: 'ExtendedHypervisors', description: 'Extended hypervisors support.' },
  { alias: 'os-keypairs', name: 'Keypairs', description: 'Keypair Support.' },
  { alias: 'limits', name: 'Limits', description: 'Limits support.' },
  { alias: 'os-used-limits', name: 'UsedLimits', description: 'Provide data on limited resources that are being used.' },
  { alias: 'os-quota-sets', name: 'Quotas', description: 'Quotas management support.' },
  { alias: 'os-quota-class-sets', name: 'QuotaClasses', description: 'Quota classes management support.' },
  { alias: 'os-extended-quotas', name: 'ExtendedQuotas', description: 'Adds ability for admins to delete quota and optionally force the update Quota command.' },
  { alias: 'os-user-quotas', name: 'UserQuotas', description: 'Project user quota support.' },
  { alias: 'os-server-group-quotas', name: 'ServerGroupQuotas', description: 'Adds quota support to server groups.' },
  { alias: 'os-services', name: 'Services', description: 'Services support.' },
  { alias: 'os-extended-services', name: 'ExtendedServices', description: 'Extended services support.' },
  { alias: 'os-extended-services-delete', name: 'ExtendedServicesDelete', description: 'Extended services deletion support.' },
  { alias: 'versions', name: 'Versions', description: 'API Version information.' },
  { alias: 'servers', name: 'Servers', description: 'Servers.' },
  { alias: 'os-access-ips', name: 'AccessIPs', description: 'Access IPs support.' },
  { alias: 'os-admin-actions', name: 'AdminActions', description: 'Enable admin-only server actions.' },
  { alias: 'os-attach-interfaces', name: 'AttachInterfaces', description: 'Attach interface support.' },
  { alias: 'os-config-drive', name: 'ConfigDrive', description: 'Config Drive Extension.' },
  { alias: 'os-console-output', name: 'ConsoleOutput', description: 'Console log output support, with tailing ability.' },
  // Listed by Nova although its API answers 410 since Ussuri; so here.
  { alias: 'os-consoles', name: 'Consoles', description: 'Consoles.' },
  { alias: 'os-create-backup', name: 'CreateBackup', description: 'Create a backup of a server.' },
  { alias: 'OS-DCF', name: 'DiskConfig', description: 'Disk Management Extension.' },
  { alias: 'os-deferred-delete', name: 'DeferredDelete', description: 'Instance deferred delete.' },
  { alias: 'OS-EXT-AZ', name: 'ExtendedAvailabilityZone', description: 'Extended Availability Zone support.' },
  { alias: 'OS-EXT-IPS', name: 'ExtendedIps', description: 'Adds type parameter to the ip list.' },
  { alias: 'OS-EXT-IPS-MAC', name: 'ExtendedIpsMac', description: 'Adds mac address parameter to the ip list.' },
  { alias: 'OS-EXT-SRV-ATTR', name: 'ExtendedServerAttributes', description: 'Extended Server Attributes support.' },
  { alias: 'OS-EXT-STS', name: 'ExtendedStatus', description: 'Extended Status support.' },
  { alias: 'os-instance-actions', name: 'InstanceActions', description: 'View a log of actions and events taken on an instance.' },
  { alias: 'ips', name: 'Ips', description: 'Server addresses.' },
  { alias: 'os-lock-server', name: 'LockServer', description: 'Enable lock/unlock server actions.' },
  { alias: 'os-multiple-create', name: 'MultipleCreate', description: 'Allow multiple create in the Create Server v2.1 API.' },
  { alias: 'os-pause-server', name: 'PauseServer', description: 'Enable pause/unpause server actions.' },
  { alias: 'os-rescue', name: 'Rescue', description: 'Instance rescue mode.' },
  { alias: 'os-scheduler-hints', name: 'SchedulerHints', description: 'Pass arbitrary key/value pairs to the scheduler.' },
  { alias: 'os-server-groups', name: 'ServerGroups', description: 'Server group support.' },
  { alias: 'server-metadata', name: 'ServerMetadata', description: 'Server metadata support.' },
  { alias: 'OS-SRV-USG', name: 'ServerUsage', description: 'Adds launched_at and terminated_at on Servers.' },
  { alias: 'os-shelve', name: 'Shelve', description: 'Instance shelve mode.' },
  { alias: 'os-simple-tenant-usage', name: 'SimpleTenantUsage', description: 'Simple tenant usage extension.' },
  { alias: 'os-suspend-server', name: 'SuspendServer', description: 'Enable suspend/resume server actions.' },
  { alias: 'os-user-data', name: 'UserData', description: 'Add user_data to the Create Server API.' },
  { alias: 'os-hosts', name: 'Hosts', description: 'Admin-only host administration.' },
  { alias: 'os-migrations', name: 'Migrations', description: 'Provide data on migrations.' },
  { alias: 'os-server-password', name: 'ServerPassword', description: 'Server password support.' },
  { alias: 'os-server-external-events', name: 'ServerExternalEvents', description: 'Server External Event Triggers.' },
  { alias: 'os-server-diagnostics', name: 'ServerDiagnostics', description: 'Allow Admins to view server diagnostics through server action.' },
  { alias: 'os-instance-usage-audit-log', name: 'OSInstanceUsageAuditLog', description: 'Admin-only Task Log Monitoring.' },
  { alias: 'images', name: 'Images', description: 'Proxying API for Images.' },
  { alias: 'image-metadata', name: 'ImageMetadata', description: 'Image Metadata API.' },
  { alias: 'os-security-groups', name: 'SecurityGroups', description: 'Security group support.' },
  { alias: 'os-floating-ips', name: 'FloatingIps', description: 'Floating IPs support.' },
  { alias: 'os-floating-ip-pools', name: 'FloatingIpPools', description: 'Floating IPs support.' },
  { alias: 'os-networks', name: 'Networks', description: 'Admin-only Network Management Extension.' },
  { alias: 'os-tenant-networks', name: 'OSTenantNetworks', description: 'Tenant-based Network Management Extension.' },
];

const extensionView = (e: typeof EXTENSIONS[number]) => ({
  alias: e.alias, description: e.description, links: [], name: e.name, namespace: 'http://docs.openstack.org/compute/ext/fake_xml', updated: '2014-12-03T00:00:00Z',
});

/** Version documents: `/` is unversioned; `/v2.1/` negotiates (and echoes) a microversion. */
export function registerVersions(app: FastifyInstance): void {
  app.get('/', { config: { public: true } }, async (req) => ({
    versions: VERSIONS.map((v) => ({ id: v.id, status: v.status, version: v.version, min_version: v.min_version, updated: v.updated, links: [{ rel: 'self', href: `${origin(req)}/${v.path}/` }] })),
  }));
  app.get('/v2.1', { config: { public: true } }, async (req, reply: FastifyReply) => {
    const v = requestedVersion(req.headers);
    reply.header('OpenStack-API-Version', `compute ${formatVersion(v)}`);
    reply.header('X-OpenStack-Nova-API-Version', formatVersion(v));
    reply.header('Vary', 'OpenStack-API-Version, X-OpenStack-Nova-API-Version');
    return { version: versionDoc(req, VERSIONS[1]) };
  });
  app.get('/v2', { config: { public: true } }, async (req) => ({ version: versionDoc(req, VERSIONS[0]) }));
}

/** `/extensions` and `/extensions/{alias}` (deprecated in Nova; still read by some clients). */
export function registerExtensions(r: ComputeRoutes): void {
  r.get('/extensions', async () => ({ extensions: EXTENSIONS.map(extensionView) }));
  r.get('/extensions/:alias', async (req) => {
    const alias = params<{ alias: string }>(req).alias;
    const e = EXTENSIONS.find((x) => x.alias === alias);
    if (!e) throw notFound('The resource could not be found.');
    return { extension: extensionView(e) };
  });
  r.get('/versions/:id', async (req) => {
    const id = params<{ id: string }>(req).id;
    const v = VERSIONS.find((x) => x.id === id);
    if (!v) throw notFound('The resource could not be found.');
    return { version: versionDoc(req, v) };
  });
}
