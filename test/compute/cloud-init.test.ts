// Acceptance of the metadata documents by the client real images use: Debian 12's cloud-init
// (22.4), its Python modules unpacked from the package — never installed, so its boot services can
// never reconfigure this host (scripts/setup.sh --test unpacks it into /var/cache/nephos/cloud-init).
// Everything cloud-init runs here runs inside the network namespace `mx<pid>`, which stands in for
// the guest: it has the instance's NICs (the port MACs), gets its address from the network agent's
// dnsmasq and reaches 169.254.169.254 through the agent's haproxy and metadata proxy, which sign
// the request for the real metadata service. The config drive is built by genisoimage, probed by
// blkid as cloud-init's device discovery does, and read back through its Rock Ridge tree.
import { test, after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { DesiredDhcp, DesiredHostState, DesiredNetwork, DesiredPort, DesiredSubnet } from '../../src/network/agent/desired.js';
import { convergeL2 } from '../../src/network/agent/l2.js';
import { convergeDhcp, removeAllDhcp, type DhcpOptions } from '../../src/network/agent/dhcp.js';
import { ensureHostNamespace, removeHostNamespace } from '../../src/network/agent/host-namespace.js';
import { loadOrCreateProxyKey, startMetadataProxy, type MetadataProxy } from '../../src/network/agent/metadata-proxy.js';
import { processAlive, stopDaemon } from '../../src/platform/host/daemon.js';
import { exec } from '../../src/platform/host/exec.js';
import { addrAdd, linkAddVeth, linkSet, netnsDelete, netnsList, routeAdd } from '../../src/network/host/ip.js';
import { isNamespaceOfHost, tapName } from '../../src/network/host/names.js';
import { silentLogger } from '../../src/platform/log.js';
import { buildConfigDrive } from '../../src/compute/metadata/config-drive.js';
import type { InstanceMetadata } from '../../src/compute/metadata/model.js';
import { networkData } from '../../src/compute/metadata/openstack.js';
import { createMetadataServer, type MetadataServer } from '../../src/compute/metadata/server.js';
import { VM_DEV, dhcpLease, plugFakeVm } from '../lib/fake-vm.js';

const T = { timeout: 120_000 };
const CLOUD_INIT = process.env.NEPHOS_CLOUD_INIT_DIR ?? '/var/cache/nephos/cloud-init';
const CLOUD_INIT_PY = join(CLOUD_INIT, 'usr/lib/python3/dist-packages');
// Debian's interpreter, whose python3-* modules cloud-init imports (not a pyenv one on PATH).
const PYTHON = '/usr/bin/python3';
const HOST = `mx${process.pid}`;
const GUEST_NS = `mx${process.pid}`;
const SECRET = 'cloud-init-test-secret';
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKq0c2xvdWQtaW5pdC10ZXN0LWtleS1ub3QtcmVhbA== ci@nephos';
const USER_DATA = '#cloud-config\nhostname: ci-guest\nruncmd:\n  - [sh, -c, "echo \\u00e9t\\u00e9 > /tmp/x"]\n';

const net: DesiredNetwork = { id: randomUUID(), type: 'flat', segmentationId: null, physicalNetwork: null, mtu: 1450, adminStateUp: true };
const subnet: DesiredSubnet = {
  id: randomUUID(), networkId: net.id, ipVersion: 4, cidr: '10.94.0.0/24', gatewayIp: '10.94.0.1', enableDhcp: true,
  dnsNameservers: ['10.94.0.53'], hostRoutes: [],
};
const hex = (process.pid % 256).toString(16).padStart(2, '0');
const port = (ip: string, mac: string, deviceOwner = 'compute:nova'): DesiredPort => ({
  id: randomUUID(), networkId: net.id, macAddress: mac, fixedIps: [{ subnetId: subnet.id, ipAddress: ip }], allowedAddressPairs: [],
  adminStateUp: true, portSecurity: false, securityGroupIds: [], deviceOwner,
});
const dhcpPort = port('10.94.0.2', `fa:16:3e:94:${hex}:02`, 'network:dhcp');
const vmPort = port('10.94.0.11', `fa:16:3e:94:${hex}:11`);
// A second NIC of the instance on a static (no DHCP) network that exists only in the documents.
const staticPortId = randomUUID();
const staticMac = `fa:16:3e:95:${hex}:20`;

const md: InstanceMetadata = {
  uuid: randomUUID(), name: 'ci guest', hostname: 'ci-guest', projectId: randomUUID().replaceAll('-', ''), availabilityZone: 'nova',
  launchIndex: 0, reservationId: 'r-0c1d2e3f', flavorName: 'm1.nano', ec2Ids: { instance: 0x1234, image: 0x56, kernel: null, ramdisk: null },
  keyPairs: [{ name: 'ci-key', type: 'ssh', data: KEY }], userData: Buffer.from(USER_DATA).toString('base64'),
  meta: { role: 'ci' }, devices: [], dedicatedCpus: [], vendorData: { 'cloud-init': '#cloud-config\npackages: []\n' },
  ports: [
    {
      id: vmPort.id, networkId: net.id, macAddress: vmPort.macAddress, mtu: 1450, vifType: 'tap',
      fixedIps: [{
        ipAddress: '10.94.0.11', floatingIps: ['203.0.113.44'],
        subnet: { id: subnet.id, ipVersion: 4, cidr: subnet.cidr, gatewayIp: subnet.gatewayIp, dnsNameservers: subnet.dnsNameservers, hostRoutes: [], enableDhcp: true, dhcpServer: '10.94.0.2', ipv6AddressMode: null },
      }],
    },
    {
      id: staticPortId, networkId: randomUUID(), macAddress: staticMac, mtu: 1500, vifType: 'tap',
      fixedIps: [{
        ipAddress: '192.168.77.20', floatingIps: [],
        subnet: {
          id: randomUUID(), ipVersion: 4, cidr: '192.168.77.0/24', gatewayIp: '192.168.77.1', dnsNameservers: ['192.168.77.53'],
          hostRoutes: [{ destination: '172.20.0.0/16', nexthop: '192.168.77.254' }], enableDhcp: false, dhcpServer: null, ipv6AddressMode: null,
        },
      }],
    },
  ],
  securityGroups: ['default', 'ssh'], rootDeviceName: '/dev/vda', adminPass: 'ConfigDrivePass1',
};

let dir: string;
let opts: DhcpOptions;
let proxy: MetadataProxy | null = null;
let service: MetadataServer | null = null;
const daemons = new Map<number, string>();
const seenInstanceIds: string[] = [];

const state = (): DesiredHostState => {
  const dhcp: DesiredDhcp[] = [{
    networkId: net.id, port: dhcpPort, subnets: [subnet], dnsDomain: 'openstacklocal.',
    hosts: [{ macAddress: vmPort.macAddress, ipAddress: '10.94.0.11', hostname: 'host-10-94-0-11' }],
  }];
  return { host: HOST, networks: [net], ports: [vmPort], securityGroups: {}, groupMembers: {}, dhcp, routers: [], vtepPeers: {} };
};

/** Runs a Python script with cloud-init's modules inside the guest namespace; its stdout parsed as JSON. */
async function cloudInit(script: string, args: readonly string[] = []): Promise<any> {
  const prelude = [
    'import json, os, sys',
    // No proxy from the environment may stand between the guest and 169.254.169.254.
    "for k in [k for k in os.environ if k.lower() in ('http_proxy', 'https_proxy', 'all_proxy')]: del os.environ[k]",
    `sys.path.insert(0, ${JSON.stringify(CLOUD_INIT_PY)})`,
  ].join('\n');
  const r = await exec(PYTHON, ['-c', `${prelude}\n${script}`, ...args], { netns: GUEST_NS, timeoutMs: 90_000 });
  return JSON.parse(r.stdout);
}

/** The checks both sources must pass: what cloud-init's OpenStack reader made of the documents. */
function checkOpenstackRead(r: any, via: string): void {
  assert.equal(r.version, 2, via);
  assert.equal(r.selected_version, '2018-08-27', `${via}: the newest version cloud-init 22.4 knows`);
  assert.equal(r.metadata['instance-id'], md.uuid, via);
  assert.equal(r.metadata.uuid, md.uuid, via);
  assert.equal(r.metadata['local-hostname'], 'ci-guest.novalocal', via);
  assert.equal(r.metadata.name, 'ci guest', via);
  assert.equal(r.metadata.project_id, md.projectId, via);
  assert.deepEqual(r.metadata.meta, { role: 'ci' }, via);
  assert.equal(r.random_seed_bytes, 512, via);
  assert.deepEqual(r.public_keys, [KEY], via);
  assert.equal(r.userdata, USER_DATA, via);
  assert.deepEqual(r.networkdata, networkData(md), via);
  assert.equal(r.vendordata, '#cloud-config\npackages: []\n', via);
  assert.deepEqual(r.vendordata2, { static: md.vendorData }, via);
  // convert_net_json named the NICs by their MACs in this namespace, and cloud-init's own parser took the result.
  assert.deepEqual(r.interfaces, [
    { name: VM_DEV, mac: vmPort.macAddress, subnets: [{ type: 'dhcp4' }] },
    {
      name: 'vm1', mac: staticMac, subnets: [{
        type: 'static', address: '192.168.77.20', netmask: '255.255.255.0',
        routes: [
          { network: '0.0.0.0', netmask: '0.0.0.0', gateway: '192.168.77.1', prefix: 0 },
          { network: '172.20.0.0', netmask: '255.255.0.0', gateway: '192.168.77.254', prefix: 16 },
        ],
      }],
    },
  ], via);
  assert.deepEqual(r.nameservers, ['10.94.0.53', '192.168.77.53'], via);
}

// The part of every reader script that turns read_v2's result into plain JSON.
const REPORT = `
import copy
from cloudinit import sources
from cloudinit.net import network_state
from cloudinit.sources.helpers import openstack
def report(reader, results):
    md = results['metadata']
    network_json = copy.deepcopy(results['networkdata'])  # convert_net_json edits its services in place
    netcfg = openstack.convert_net_json(results['networkdata'])
    ns = network_state.parse_net_config_data(netcfg)
    ifaces = []
    for i in ns.iter_interfaces():
        subs = []
        for s in i.get('subnets', []):
            subs.append({k: s[k] for k in ('type', 'address', 'netmask', 'routes') if s.get(k) not in (None, [])})
        ifaces.append({'name': i['name'], 'mac': i['mac_address'], 'subnets': subs})
    return {
        'version': results['version'], 'selected_version': reader._find_working_version(),
        'metadata': {k: v for k, v in md.items() if k != 'random_seed'}, 'random_seed_bytes': len(md['random_seed']),
        'public_keys': sources.normalize_pubkey_data(md.get('public_keys')),
        'userdata': results['userdata'].decode('utf-8'), 'networkdata': network_json,
        'vendordata': sources.convert_vendordata(results.get('vendordata')), 'vendordata2': results.get('vendordata2'),
        'ec2': results['ec2-metadata'], 'interfaces': ifaces, 'nameservers': ns.dns_nameservers,
    }
`;

before(async () => {
  await stat(join(CLOUD_INIT_PY, 'cloudinit/sources/helpers/openstack.py')).catch(() => {
    throw new Error(`cloud-init's Python modules are not in ${CLOUD_INIT}: run scripts/setup.sh --test (it unpacks Debian's cloud-init there)`);
  });
  dir = await mkdtemp(join(tmpdir(), 'nephos-cloud-init-test-'));
  await chmod(dir, 0o755); // dnsmasq and haproxy run as nobody and must get through
  const proxyKey = await loadOrCreateProxyKey(join(dir, 'proxy.key'));
  opts = { dir: join(dir, 'dhcp'), metadata: { socketPath: join(dir, 'metadata.sock'), proxyKey } };
  service = await createMetadataServer({
    host: '127.0.0.1', port: 0, sharedSecret: SECRET, log: silentLogger(),
    lookup: async (id) => { seenInstanceIds.push(id); return id === md.uuid ? md : null; },
  });
  proxy = await startMetadataProxy({
    socketPath: join(dir, 'metadata.sock'), upstreamUrl: service.url, sharedSecret: SECRET, proxyKey,
    resolve: (networkId, ip) => (networkId === net.id && ip === '10.94.0.11' ? { instanceId: md.uuid, projectId: md.projectId } : null),
  });
  // The guest: vm0 is the instance's TAP end on the network, vm1 its second NIC (a veth whose peer stays inside).
  await ensureHostNamespace(HOST);
  await plugFakeVm({ ns: GUEST_NS, hostNs: `nephos-${HOST}`, hostLink: tapName(vmPort.id), mac: vmPort.macAddress, mtu: 1450 });
  await linkAddVeth(GUEST_NS, 'vm1', { name: 'vm1p' }, { mac: staticMac });
  const l2 = await convergeL2(state());
  assert.deepEqual(l2.errors, []);
  const d = await convergeDhcp(state(), opts);
  assert.deepEqual(d.errors, []);
  const pids = d.pids[net.id];
  if (pids) {
    daemons.set(pids.dnsmasq, 'dnsmasq');
    if (pids.haproxy) daemons.set(pids.haproxy, 'haproxy');
  }
});

after(async () => {
  if (opts) await removeAllDhcp(HOST, opts).catch(() => undefined);
  for (const [pid, program] of daemons) {
    if (await processAlive(pid)) await stopDaemon(pid, program, []).catch(() => undefined);
  }
  await proxy?.close();
  await service?.close();
  for (const ns of await netnsList()) if (ns === GUEST_NS || isNamespaceOfHost(HOST, ns)) await netnsDelete(ns);
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Unpacks an ISO through its Rock Ridge tree with isoinfo into `into`; the file paths. */
async function extractIso(iso: string, into: string): Promise<string[]> {
  const all = (await exec('isoinfo', ['-R', '-f', '-i', iso])).stdout.split('\n').filter(Boolean);
  const files = all.filter((p) => !all.some((q) => q.startsWith(`${p}/`)));
  for (const p of files) {
    const data = await new Promise<Buffer>((resolve, reject) => {
      execFile('isoinfo', ['-R', '-x', p, '-i', iso], { encoding: 'buffer', maxBuffer: 16 << 20, timeout: 20_000 }, (err, out) => (err ? reject(err) : resolve(out)));
    });
    await mkdir(dirname(join(into, p)), { recursive: true });
    await writeFile(join(into, p), data);
  }
  return files;
}

describe('config drive', () => {
  test('blkid finds an iso9660 volume labelled config-2, as cloud-init\'s device discovery asks', T, async () => {
    const iso = join(dir, 'disk.config');
    await buildConfigDrive(md, iso);
    const probe = (await exec('blkid', ['-p', '-o', 'export', iso])).stdout;
    assert.match(probe, /^LABEL=config-2$/m);
    assert.match(probe, /^TYPE=iso9660$/m);
  });

  test('cloud-init\'s ConfigDriveReader reads it: instance id, hostname, keys, user data, network data, vendor data, admin password', T, async () => {
    const root = join(dir, 'config-2');
    const files = await extractIso(join(dir, 'disk.config'), root);
    assert.ok(files.includes('/openstack/latest/meta_data.json'));
    const r = await cloudInit(`${REPORT}
reader = openstack.ConfigDriveReader(sys.argv[1])
results = reader.read_v2()
out = report(reader, results)
out['admin_pass'] = results['metadata'].get('admin_pass')
print(json.dumps(out))
`, [root]);
    checkOpenstackRead(r, 'config drive');
    assert.equal(r.admin_pass, 'ConfigDrivePass1');
    // The EC2 half of the drive (ec2/latest/meta-data.json).
    assert.equal(r.ec2['instance-id'], 'i-00001234');
    assert.equal(r.ec2['local-ipv4'], '10.94.0.11');
    assert.equal(r.ec2['public-ipv4'], '203.0.113.44');
    assert.deepEqual(r.ec2['public-keys'], { 0: { 'openssh-key': KEY } });
    assert.deepEqual(r.ec2['block-device-mapping'], { ami: 'vda', root: '/dev/vda' });
  });
});

describe('metadata service through the network\'s metadata path', () => {
  test('the guest gets its address by DHCP, with the route to 169.254.169.254 via the DHCP port', T, async () => {
    const lease = await dhcpLease(GUEST_NS, dir, 4);
    assert.equal(lease?.ip, '10.94.0.11');
    assert.match(lease?.staticroutes ?? '', /169\.254\.169\.254\/32 10\.94\.0\.2/);
    await addrAdd(GUEST_NS, VM_DEV, '10.94.0.11/24');
    await routeAdd(GUEST_NS, { dst: '169.254.169.254/32', via: '10.94.0.2', dev: VM_DEV });
    await linkSet(GUEST_NS, 'vm1', { up: true });
  });

  test('cloud-init\'s MetadataReader reads the OpenStack tree over HTTP, the same as from the drive', T, async () => {
    seenInstanceIds.length = 0;
    const r = await cloudInit(`${REPORT}
reader = openstack.MetadataReader('http://169.254.169.254', timeout=10, retries=1)
results = reader.read_v2()
out = report(reader, results)
out['admin_pass'] = results['metadata'].get('admin_pass')
print(json.dumps(out))
`);
    checkOpenstackRead(r, 'metadata service');
    assert.equal(r.admin_pass, null, 'the admin password is for the config drive only');
    assert.ok(seenInstanceIds.length > 0 && seenInstanceIds.every((id) => id === md.uuid), 'every request named this instance');
  });

  test('cloud-init\'s EC2 helpers walk meta-data/ and fetch user-data', T, async () => {
    const r = await cloudInit(`
from cloudinit.sources.helpers import ec2
meta = ec2.get_instance_metadata(metadata_address='http://169.254.169.254', timeout=10, retries=1)
ud = ec2.get_instance_userdata(metadata_address='http://169.254.169.254', timeout=10, retries=1)
old = ec2.get_instance_metadata(api_version='2009-04-04', metadata_address='http://169.254.169.254', timeout=10, retries=1)
print(json.dumps({'meta': meta, 'userdata': ud.decode('utf-8'), 'same_at_2009': old == meta}))
`);
    assert.deepEqual(r.meta, {
      'ami-id': 'ami-00000056', 'ami-launch-index': '0', 'ami-manifest-path': 'FIXME',
      'block-device-mapping': { ami: 'vda', root: '/dev/vda' }, hostname: 'ci-guest.novalocal', 'instance-action': 'none',
      'instance-id': 'i-00001234', 'instance-type': 'm1.nano', 'local-hostname': 'ci-guest.novalocal', 'local-ipv4': '10.94.0.11',
      placement: { 'availability-zone': 'nova' }, 'public-hostname': 'ci-guest.novalocal', 'public-ipv4': '203.0.113.44',
      'public-keys': { 'ci-key': KEY }, 'reservation-id': 'r-0c1d2e3f', 'security-groups': ['default', 'ssh'],
    });
    assert.equal(r.userdata, USER_DATA);
    assert.equal(r.same_at_2009, true);
  });
});

test('nothing is left behind: no namespace of the test, no daemon', T, async () => {
  await removeAllDhcp(HOST, opts);
  await netnsDelete(GUEST_NS);
  await removeHostNamespace(HOST);
  assert.deepEqual((await netnsList()).filter((n) => n === GUEST_NS || isNamespaceOfHost(HOST, n)), []);
  for (const pid of daemons.keys()) assert.equal(await processAlive(pid), false, `pid ${pid} still runs`);
});
