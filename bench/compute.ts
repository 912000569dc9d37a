/**
 * Compute benchmark (issue: compute). Starts its own all-in-one in this process (temporary state,
 * free ports, host `b<pid>`, real QEMU under TCG) and measures:
 *  (a) boots: for N sequential boots of `nephos-guest` on `private`, POST /servers → ACTIVE, the
 *      compute agent's own split of that time (image, TAP wait, config drive, the driver's spawn),
 *      the control-plane overhead = POST→ACTIVE minus the driver's spawn and image download,
 *      POST → the guest's boot-complete line (with the guest's own uptime at that line), and
 *      POST → SSH answering on its address (dropbear's banner, probed from the router namespace);
 *  (b) scheduling: M instances onto H fake hosts through the scheduler on placement
 *      (bench/compute-scheduler.ts), total and p50/p99 per decision;
 *  (c) `GET /servers/detail` with S servers in the project (rows seeded straight into the
 *      database: the fake hosts' instances need no hypervisor), one page and the whole walk.
 * Targets: overhead ≤ 300 ms; POST → SSH-able ≤ 5 s; 1,000 schedules ≤ 10 s.
 *
 *   node dist/bench/run.js compute [--boots 10] [--hosts 1000] [--instances 1000] [--servers 5000]
 *        [--no-boots] [--no-schedule] [--no-list]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kysely } from 'kysely';
import { loadConfig } from '../src/platform/config/config.js';
import { silentLogger } from '../src/platform/log.js';
import { startCloud, type Cloud } from '../src/allinone/cloud.js';
import { uploadGuestImages } from '../src/image/guest-upload.js';
import { cleanupHost } from '../src/network/agent/cleanup.js';
import { routerNamespace } from '../src/network/host/names.js';
import { exec } from '../src/platform/host/exec.js';
import { insertInstance } from '../src/compute/servers/store.js';
import type { ServersDB } from '../src/compute/servers/schema.js';
import { BOOT_LINE, GUEST_CACHE } from '../test/lib/compute-cloud.js';
import { freePort } from '../test/lib/identity-harness.js';
import { percentile } from './lib/load.js';
import { benchScheduler } from './compute-scheduler.js';

const median = (xs: readonly number[]): number => percentile([...xs].sort((a, b) => a - b), 50);
const fmt = (ms: number): string => `${Math.round(ms)} ms`;

interface Api { token: string; call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> }

async function login(identityUrl: string, user: string, password: string, project: string): Promise<string> {
  const r = await fetch(`${identityUrl}/auth/tokens`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: user, domain: { id: 'default' }, password } } }, scope: { project: { name: project, domain: { id: 'default' } } } } }),
  });
  if (r.status !== 201) throw new Error(`login ${user}: ${r.status}`);
  return r.headers.get('x-subject-token')!;
}

function api(base: string, token: string): Api {
  return {
    token,
    call: async (method, path, body) => {
      const r = await fetch(`${base}${path}`, {
        method, headers: { 'x-auth-token': token, 'content-type': 'application/json', 'openstack-api-version': 'compute 2.90' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await r.text();
      return { status: r.status, json: text ? JSON.parse(text) : null };
    },
  };
}

/** Time (ms from now) until dropbear's banner answers on ip:22 inside `ns`, or -1 after `timeoutMs`. */
async function sshBanner(ns: string, ip: string, timeoutMs: number): Promise<number> {
  const code = `const net=require('net');const t0=Date.now();(function go(){const s=net.connect(22,${JSON.stringify(ip)});let d='';`
    + `s.on('data',(b)=>{d+=b;if(d.includes('SSH-')){console.log(Date.now()-t0);process.exit(0)}});`
    + `s.on('error',()=>{s.destroy();if(Date.now()-t0>${timeoutMs}){console.log(-1);process.exit(0)}setTimeout(go,25)});`
    + `s.setTimeout(2000,()=>{s.destroy();setTimeout(go,0)})})()`;
  const r = await exec('ip', ['netns', 'exec', ns, process.execPath, '-e', code], { timeoutMs: timeoutMs + 5000 });
  return Number(r.stdout.trim());
}

async function benchBoots(cloud: Cloud, identityUrl: string, boots: number, host: string): Promise<void> {
  const computeUrl = cloud.services.find((s) => s.type === 'compute')!.url;
  const networkUrl = cloud.services.find((s) => s.type === 'network')!.url;
  const demo = api(computeUrl, await login(identityUrl, 'demo', cloud.demoPassword, 'demo'));
  const net = api(networkUrl, demo.token);
  const image = (await (await fetch(`${cloud.services.find((s) => s.type === 'image')!.url}/v2/images?name=nephos-guest`, { headers: { 'x-auth-token': demo.token } })).json() as { images: { id: string }[] }).images[0]!;
  const priv = (await net.call('GET', '/v2.0/networks?name=private')).json.networks[0];
  const router = (await net.call('GET', '/v2.0/routers?name=router1')).json.routers[0];
  const sg = (await net.call('GET', '/v2.0/security-groups?name=default')).json.security_groups[0];
  await net.call('POST', '/v2.0/security-group-rules', { security_group_rule: { security_group_id: sg.id, direction: 'ingress', protocol: 'tcp', port_range_min: 22, port_range_max: 22 } });
  const agent = cloud.servers!.agents.get(host)!;
  const rows: Record<string, number>[] = [];
  for (let i = 0; i <= boots; i++) {
    const t0 = performance.now();
    const r = await demo.call('POST', '/servers', { server: { name: `bench-${i}`, imageRef: image.id, flavorRef: '1', networks: [{ uuid: priv.id }] } });
    if (r.status !== 202) throw new Error(`POST /servers: ${r.status} ${JSON.stringify(r.json)}`);
    const id = r.json.server.id as string;
    let active = -1;
    let ip = '';
    for (let k = 0; k < 3000 && active < 0; k++) {
      const s = (await demo.call('GET', `/servers/${id}`)).json.server;
      if (s.status === 'ERROR') throw new Error(`server ${id} ERROR: ${JSON.stringify(s.fault)}`);
      if (s.status === 'ACTIVE') { active = performance.now() - t0; ip = (s.addresses.private ?? [])[0]?.addr ?? ''; }
      else await sleep(10);
    }
    // The probe's clock starts inside its own process: count from when it was started.
    const probeStart = performance.now() - t0;
    const sshP = sshBanner(routerNamespace(host, router.id), ip, 60_000).then((ms) => (ms < 0 ? -1 : probeStart + ms));
    let bootMs = -1;
    let uptime = -1;
    let guestSaid = '';
    for (let k = 0; k < 3000 && bootMs < 0; k++) {
      const m = BOOT_LINE.exec(await agent.driver.consoleOutput(id).catch(() => ''));
      if (m) { bootMs = performance.now() - t0; uptime = Number(m[2]) * 1000; guestSaid = `ip=${m[4]} mtu=${m[5]} metadata=${m[6]}`; } else await sleep(20);
    }
    const sshMs = await sshP;
    const t = agent.buildTimings.get(id) ?? {};
    const row = { active, boot: bootMs, uptime, ssh: sshMs, spawn: t.spawnMs ?? 0, image: t.imageMs ?? 0, vif: t.vifMs ?? 0, overhead: active - (t.spawnMs ?? 0) - (t.imageMs ?? 0) };
    if (i > 0) rows.push(row); // boot 0 warms the image cache
    console.log(`  boot ${i}${i === 0 ? ' (warm-up, not counted)' : ''}: ACTIVE ${fmt(row.active)} (spawn ${fmt(row.spawn)}, image ${fmt(row.image)}, TAP wait ${fmt(row.vif)}; overhead ${fmt(row.overhead)}), boot line ${fmt(row.boot)} (guest uptime ${(row.uptime / 1000).toFixed(2)} s; ${guestSaid || 'no boot line'}), SSH ${fmt(row.ssh)}`);
    await demo.call('DELETE', `/servers/${id}`);
    for (let k = 0; k < 600; k++) { if ((await demo.call('GET', `/servers/${id}`)).status === 404) break; await sleep(50); }
  }
  const col = (k: string) => median(rows.map((r) => r[k]!));
  console.log(`\n(a) boots: medians over ${rows.length}`);
  console.log(`| measure | median | target |\n|---|---|---|`);
  console.log(`| POST → ACTIVE | ${fmt(col('active'))} | |`);
  console.log(`| … of which the driver's spawn | ${fmt(col('spawn'))} | |`);
  console.log(`| … of which waiting for the TAP (network agent) | ${fmt(col('vif'))} | |`);
  console.log(`| control-plane overhead (POST → ACTIVE − spawn − image) | ${fmt(col('overhead'))} | ≤ 300 ms |`);
  console.log(`| POST → boot-complete line | ${fmt(col('boot'))} | |`);
  console.log(`| guest uptime at that line | ${fmt(col('uptime'))} | |`);
  console.log(`| POST → SSH banner on its address | ${fmt(col('ssh'))} | ≤ 5 s |`);
}

async function benchList(cloud: Cloud, identityUrl: string, count: number): Promise<void> {
  const computeUrl = cloud.services.find((s) => s.type === 'compute')!.url;
  const demo = api(computeUrl, await login(identityUrl, 'demo', cloud.demoPassword, 'demo'));
  const projectId = (await (await fetch(`${identityUrl}/auth/tokens`, { headers: { 'x-auth-token': demo.token, 'x-subject-token': demo.token } })).json() as any).token.project.id as string;
  const db = cloud.compute.ctx.db as unknown as Kysely<ServersDB>;
  const now = new Date().toISOString().replace('Z', '000');
  const flavor = { flavorid: '42', name: 'm1.nano', vcpus: 1, memory_mb: 128, root_gb: 1, ephemeral_gb: 0, swap: 0, extra_specs: {} };
  for (let i = 0; i < count; i++) {
    const uuid = randomUUID();
    await insertInstance(db, {
      uuid, project_id: projectId, user_id: 'bench', display_name: `list-${i}`, host: `fake-${i % 1000}`, node: `fake-${i % 1000}`, vm_state: 'active', task_state: null, power_state: 1,
      image_ref: '00000000-0000-4000-8000-000000000000', flavor_id: '42', availability_zone: 'nova', reservation_id: 'r-bench', launch_index: 0, key_name: null, locked: 0,
      created_at: now, updated_at: now, launched_at: now, terminated_at: null, deleted: 0, deleted_at: null,
      body: {
        description: null, hostname: `list-${i}`, flavor, image: { id: '00000000-0000-4000-8000-000000000000', name: 'x', disk_format: 'qcow2', min_disk: 0, min_ram: 0, properties: {} },
        metadata: { k: 'v' }, user_data: null, key_data: null, config_drive: false, requested_networks: 'none', ports: [], security_groups: ['default'],
        addresses: { private: [{ version: 4, addr: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, type: 'fixed', mac: 'fa:16:3e:00:00:01', port: uuid }] },
        access_ip_v4: '', access_ip_v6: '', tags: [], fault: null, server_group: null, scheduler_hints: {}, locked_reason: null, locked_by: null, progress: 100,
      },
    });
  }
  const page: number[] = [];
  const walk: number[] = [];
  for (let run = 0; run < 5; run++) {
    let t0 = performance.now();
    const first = await demo.call('GET', '/servers/detail');
    page.push(performance.now() - t0);
    let n = first.json.servers.length;
    let next = first.json.servers_links?.[0]?.href as string | undefined;
    t0 = performance.now() - page[page.length - 1]!;
    while (next) {
      const r = await demo.call('GET', next.slice(next.indexOf('/servers')));
      n += r.json.servers.length;
      next = r.json.servers_links?.[0]?.href;
    }
    walk.push(performance.now() - t0);
    if (n !== count) throw new Error(`the walk listed ${n} servers, not ${count}`);
  }
  console.log(`\n(c) GET /servers/detail with ${count} servers (median of 5): first page (1000) ${fmt(median(page))}; the whole walk (${Math.ceil(count / 1000)} pages) ${fmt(median(walk))}`);
}

export async function computeBenchMain(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      boots: { type: 'string', default: '10' }, hosts: { type: 'string', default: '1000' }, instances: { type: 'string', default: '1000' },
      servers: { type: 'string', default: '5000' }, 'no-boots': { type: 'boolean' }, 'no-schedule': { type: 'boolean' }, 'no-list': { type: 'boolean' },
    },
  });
  if (!values['no-schedule']) {
    const r = await benchScheduler({ hosts: Number(values.hosts), instances: Number(values.instances), weigher: 'spread' });
    console.log(`(b) scheduling ${r.instances} instances onto ${r.hosts} fake hosts: total ${fmt(r.totalMs)} (target ≤ 10 s), per decision p50 ${r.p50Ms.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms, max ${r.maxMs.toFixed(1)} ms; ${r.hostsUsed} hosts used\n`);
  }
  if (values['no-boots'] && values['no-list']) return 0;
  const state = mkdtempSync(join(tmpdir(), 'nephos-bench-compute-'));
  const host = `b${process.pid}`;
  const publicNs = `nephos-b${process.pid}pub`;
  const ports = { identity: await freePort(), image: await freePort(), network: await freePort(), placement: await freePort(), compute: await freePort(), metadata: await freePort() };
  const cfg = loadConfig({
    file: '/dev/null', env: {},
    overrides: {
      platform: { state_dir: state, log_level: 'silent' },
      identity: { port: ports.identity, password_hash_rounds: 4 },
      image: { port: ports.image, upload_guest: false },
      network: { port: ports.network, host, public_namespace: publicNs, metadata_upstream_url: `http://127.0.0.1:${ports.metadata}` },
      placement: { port: ports.placement },
      compute: { port: ports.compute, metadata_port: ports.metadata, host, instances_dir: join(state, 'instances') },
      database: { url: `sqlite://${join(state, 'nephos.db')}` },
    },
  });
  const cloud = await startCloud(cfg, silentLogger());
  const identityUrl = cloud.services.find((s) => s.type === 'identity')!.url;
  try {
    const adminProject = (await cloud.identity.identity.db.selectFrom('project').select('id').where('name', '=', 'admin').executeTakeFirstOrThrow()).id;
    await uploadGuestImages(cloud.image.ctx, { ownerProjectId: adminProject, outDir: GUEST_CACHE });
    if (!values['no-boots']) await benchBoots(cloud, identityUrl, Number(values.boots), host);
    if (!values['no-list']) await benchList(cloud, identityUrl, Number(values.servers));
  } finally {
    await cloud.close();
    await cleanupHost(host, { publicNamespace: publicNs });
    rmSync(`/run/nephos/${host}`, { recursive: true, force: true });
    rmSync(state, { recursive: true, force: true });
  }
  return 0;
}
