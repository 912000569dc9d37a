// The nephos command end to end: up --detach, status, clouds.yaml merge, the openstack CLI through
// clouds.yaml, config show, key rotation while running, down (stops exactly what up started).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { freePort } from '../lib/identity-harness.js';

const run = promisify(execFile);
const root = new URL('../../..', import.meta.url).pathname;
const nephos = join(root, 'bin', 'nephos');
let dir: string;
let env: NodeJS.ProcessEnv;

async function cmd(file: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  try {
    const r = await run(file, args, { env: { ...env, ...extraEnv }, timeout: 120_000 });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : 1, out: x.stdout ?? '', err: x.stderr ?? String(e) };
  }
}

/** Alive: the process exists and is not a zombie (a reaped-later child of a non-reaping init counts as gone). */
function alive(pid: number): boolean {
  try { return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8')); } catch { return false; }
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nephos-launcher-'));
  const home = join(dir, 'home');
  mkdirSync(join(home, '.config', 'openstack'), { recursive: true });
  // An operator's existing cloud entry must survive.
  writeFileSync(join(home, '.config', 'openstack', 'clouds.yaml'), '# mine\nclouds:\n  other:\n    auth:\n      auth_url: http://example.invalid/v3\n');
  env = {
    PATH: process.env.PATH, HOME: home, NEPHOS_CONFIG: '/dev/null',
    NEPHOS_PLATFORM_STATE_DIR: join(dir, 'state'), NEPHOS_IDENTITY_PORT: String(await freePort()), NEPHOS_IMAGE_PORT: String(await freePort()), NEPHOS_NETWORK_PORT: String(await freePort()), NEPHOS_NETWORK_AGENT_ENABLED: 'false',
    NEPHOS_IDENTITY_PASSWORD_HASH_ROUNDS: '6', NEPHOS_IDENTITY_ADMIN_PASSWORD: 'launcher-admin-pw',
  };
});

after(async () => {
  await cmd(nephos, ['down']);
  rmSync(dir, { recursive: true, force: true });
});

test('up --detach, status, clouds.yaml, openstack CLI, rotate-keys, config show, down', async () => {
  const up = await cmd(nephos, ['up', '--detach']);
  assert.equal(up.code, 0, up.err + up.out);
  assert.match(up.out, /export OS_CLOUD=nephos/);
  const pid = Number(readFileSync(join(dir, 'state', 'nephos.pid'), 'utf8'));
  assert.ok(alive(pid));

  const again = await cmd(nephos, ['up', '--detach']);
  assert.notEqual(again.code, 0, 'a second up refuses while one runs');

  const status = await cmd(nephos, ['status']);
  assert.equal(status.code, 0, status.out);
  assert.match(status.out, /identity\s+http:\/\/127\.0\.0\.1:\d+\/v3\s+up/);

  const clouds = parse(readFileSync(join(env.HOME!, '.config', 'openstack', 'clouds.yaml'), 'utf8'));
  assert.ok(clouds.clouds.other, 'other entries are kept');
  assert.equal(clouds.clouds.nephos.auth.password, 'launcher-admin-pw');
  assert.equal(clouds.clouds['nephos-demo'].auth.username, 'demo');
  assert.match(readFileSync(join(env.HOME!, '.config', 'openstack', 'clouds.yaml'), 'utf8'), /# mine/);

  const token = await cmd('/usr/bin/openstack', ['--os-cloud', 'nephos', 'token', 'issue', '-f', 'json']);
  assert.equal(token.code, 0, token.err);
  const demo = await cmd('/usr/bin/openstack', ['--os-cloud', 'nephos-demo', 'project', 'list', '-f', 'json']);
  assert.equal(demo.code, 0, demo.err);
  assert.match(status.out, /image\s+http:\/\/127\.0\.0\.1:\d+\s+up/);

  // First start builds the guest and uploads it in the background: the demo user soon sees it.
  let names: string[] = [];
  for (let i = 0; i < 60 && names.length < 4; i++) {
    const list = await cmd('/usr/bin/openstack', ['--os-cloud', 'nephos-demo', 'image', 'list', '--public', '-f', 'json']);
    assert.equal(list.code, 0, list.err);
    names = JSON.parse(list.out).filter((i: any) => i.Status === 'active').map((i: any) => i.Name).sort();
    if (names.length < 4) await new Promise((r) => setTimeout(r, 3000));
  }
  assert.deepEqual(names, ['nephos-guest', 'nephos-guest-direct', 'nephos-guest-kernel', 'nephos-guest-ramdisk']);

  // Rotation by another process: old tokens keep validating, new tokens are issued.
  const rot = await cmd(nephos, ['identity', 'rotate-keys']);
  assert.equal(rot.code, 0, rot.err);
  await new Promise((r) => setTimeout(r, 1200));
  const old = JSON.parse(token.out).id;
  const check = await cmd('/usr/bin/openstack', ['--os-cloud', 'nephos', 'token', 'issue', '-f', 'json']);
  assert.equal(check.code, 0, check.err);
  const res = await fetch(`http://127.0.0.1:${env.NEPHOS_IDENTITY_PORT}/v3/auth/tokens`, { headers: { 'x-auth-token': JSON.parse(check.out).id, 'x-subject-token': old } });
  assert.equal(res.status, 200);

  const show = await cmd(nephos, ['config', 'show']);
  assert.equal(show.code, 0);
  assert.match(show.out, /admin_password: "?\*\*\*"?/);
  assert.doesNotMatch(show.out, /launcher-admin-pw/);

  const down = await cmd(nephos, ['down']);
  assert.equal(down.code, 0, down.err);
  assert.ok(!alive(pid), 'the process is gone');
  assert.ok(!existsSync(join(dir, 'state', 'nephos.pid')));
  const status2 = await cmd(nephos, ['status']);
  assert.notEqual(status2.code, 0);
});
