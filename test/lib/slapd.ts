import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'ldapts';
import { freePort } from './identity-harness.js';

const run = promisify(execFile);

/** A user entry to seed under ou=Users (inetOrgPerson). */
export interface SeedUser {
  /** The naming attribute value (`cn`, Keystone's default user id attribute). */
  readonly cn: string;
  /** `sn` (Keystone's default user name attribute). */
  readonly sn: string;
  readonly password: string;
  readonly mail?: string;
  readonly description?: string;
  /** Further inetOrgPerson attributes (e.g. employeeType). */
  readonly attributes?: Readonly<Record<string, string>>;
}

/** A group entry to seed under ou=Groups (groupOfNames); members are user cns. */
export interface SeedGroup {
  readonly cn: string;
  readonly description?: string;
  readonly members: readonly string[];
}

/** A running private slapd. */
export interface Slapd {
  /** ldap://127.0.0.1:PORT */
  readonly url: string;
  readonly pid: number;
  readonly suffix: string;
  readonly rootDn: string;
  readonly rootPassword: string;
  /** A read-only service account (what Keystone's `[ldap] user`/`password` name). */
  readonly serviceDn: string;
  readonly servicePassword: string;
  readonly usersDn: string;
  readonly groupsDn: string;
  /** The DN of a seeded user by cn. */
  userDn(cn: string): string;
  /** Stops exactly this slapd (SIGTERM, then SIGKILL) and removes its files. */
  stop(): Promise<void>;
}

export const SUFFIX = 'dc=nephos,dc=test';
const SCHEMAS = ['core', 'cosine', 'inetorgperson', 'nis'];

/** `{SSHA}` of a password, as slappasswd makes it. */
export function ssha(password: string): string {
  const salt = randomBytes(8);
  const digest = createHash('sha1').update(password).update(salt).digest();
  return `{SSHA}${Buffer.concat([digest, salt]).toString('base64')}`;
}

const ldifValue = (v: string): string => (/^[\x20-\x7e]*$/.test(v) && !/^[ :<]/.test(v) && !v.endsWith(' ') ? ` ${v}` : `: ${Buffer.from(v).toString('base64')}`);
const entry = (dn: string, attrs: [string, string][]): string =>
  [`dn:${ldifValue(dn)}`, ...attrs.map(([k, v]) => `${k}:${ldifValue(v)}`)].join('\n') + '\n\n';

/** The seed LDIF: the suffix, ou=Users, ou=Groups, ou=Services with the service account, users and groups. */
function seedLdif(serviceDn: string, servicePassword: string, users: readonly SeedUser[], groups: readonly SeedGroup[]): string {
  const userDn = (cn: string) => `cn=${cn},ou=Users,${SUFFIX}`;
  let out = entry(SUFFIX, [['objectClass', 'top'], ['objectClass', 'dcObject'], ['objectClass', 'organization'], ['o', 'Nephos test'], ['dc', 'nephos']]);
  for (const ou of ['Users', 'Groups', 'Services']) out += entry(`ou=${ou},${SUFFIX}`, [['objectClass', 'organizationalUnit'], ['ou', ou]]);
  out += entry(serviceDn, [['objectClass', 'organizationalRole'], ['objectClass', 'simpleSecurityObject'], ['cn', 'nephos'], ['userPassword', ssha(servicePassword)]]);
  for (const u of users) {
    const attrs: [string, string][] = [['objectClass', 'inetOrgPerson'], ['cn', u.cn], ['sn', u.sn], ['userPassword', ssha(u.password)]];
    if (u.mail) attrs.push(['mail', u.mail]);
    if (u.description) attrs.push(['description', u.description]);
    for (const [k, v] of Object.entries(u.attributes ?? {})) attrs.push([k, v]);
    out += entry(userDn(u.cn), attrs);
  }
  for (const g of groups) {
    // groupOfNames needs at least one member; an empty group names the service account, as is customary.
    const members = g.members.length ? g.members.map(userDn) : [serviceDn];
    const attrs: [string, string][] = [['objectClass', 'groupOfNames'], ['cn', g.cn], ...members.map((m): [string, string] => ['member', m])];
    if (g.description) attrs.push(['description', g.description]);
    out += entry(`cn=${g.cn},ou=Groups,${SUFFIX}`, attrs);
  }
  return out;
}

/**
 * The slapd.conf: the four schemas, an mdb database under `dir`, and ACLs that let a user bind
 * with (but never read) passwords and let bound users read the rest; anonymous users see nothing.
 */
function slapdConf(dir: string, rootDn: string, rootPassword: string): string {
  return [
    ...SCHEMAS.map((s) => `include /etc/ldap/schema/${s}.schema`),
    `pidfile ${join(dir, 'slapd.pid')}`,
    `argsfile ${join(dir, 'slapd.args')}`,
    'modulepath /usr/lib/ldap',
    'moduleload back_mdb',
    'database mdb',
    'maxsize 33554432',
    `suffix "${SUFFIX}"`,
    `rootdn "${rootDn}"`,
    `rootpw ${ssha(rootPassword)}`,
    `directory ${join(dir, 'db')}`,
    'index objectClass eq',
    'index cn,sn,member eq',
    'access to attrs=userPassword by self =xw by anonymous auth by * none',
    'access to * by users read by anonymous auth by * none',
    '',
  ].join('\n');
}

/**
 * Starts a private OpenLDAP slapd (Debian's) on a free loopback port: its own slapd.conf
 * (`-f`, never /etc/ldap/slapd.d), an mdb database in a temporary directory seeded with
 * slapadd, suffix dc=nephos,dc=test. Resolves once it answers a bind.
 */
export async function startSlapd(seed: { users?: readonly SeedUser[]; groups?: readonly SeedGroup[] } = {}): Promise<Slapd> {
  const dir = mkdtempSync(join(tmpdir(), 'nephos-slapd-'));
  const rootDn = `cn=admin,${SUFFIX}`;
  const rootPassword = randomBytes(12).toString('hex');
  const serviceDn = `cn=nephos,ou=Services,${SUFFIX}`;
  const servicePassword = randomBytes(12).toString('hex');
  let child: ChildProcess | undefined;
  try {
    mkdirSync(join(dir, 'db'));
    const conf = join(dir, 'slapd.conf');
    writeFileSync(conf, slapdConf(dir, rootDn, rootPassword), { mode: 0o600 });
    const ldif = join(dir, 'seed.ldif');
    writeFileSync(ldif, seedLdif(serviceDn, servicePassword, seed.users ?? [], seed.groups ?? []), { mode: 0o600 });
    await run('/usr/sbin/slapadd', ['-q', '-f', conf, '-l', ldif], { timeout: 30_000 });
    const port = await freePort();
    const url = `ldap://127.0.0.1:${port}`;
    // `-d 0` keeps slapd in the foreground, so the PID we hold is slapd's own.
    child = spawn('/usr/sbin/slapd', ['-f', conf, '-h', `${url}/`, '-d', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
    const exited = new Promise<void>((resolve) => child!.once('exit', () => resolve()));
    await waitReady(url, serviceDn, servicePassword, child, () => stderr);
    const proc = child;
    // Should the test process die without stop(), take this slapd (and only it) along.
    const onExit = () => { try { process.kill(proc.pid!, 'SIGKILL'); } catch { /* already gone */ } };
    process.once('exit', onExit);
    let stopped = false;
    return {
      url, pid: proc.pid!, suffix: SUFFIX, rootDn, rootPassword, serviceDn, servicePassword,
      usersDn: `ou=Users,${SUFFIX}`, groupsDn: `ou=Groups,${SUFFIX}`,
      userDn: (cn) => `cn=${cn},ou=Users,${SUFFIX}`,
      stop: async () => {
        if (stopped) return;
        stopped = true;
        process.removeListener('exit', onExit);
        await terminate(proc, exited);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    if (child && child.exitCode === null && child.signalCode === null) {
      await terminate(child, new Promise<void>((resolve) => child!.once('exit', () => resolve())));
    }
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/** SIGTERM to this process only; SIGKILL if it has not exited within 5 s. */
async function terminate(proc: ChildProcess, exited: Promise<void>): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill('SIGTERM');
  const timer = setTimeout(() => { if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL'); }, 5000);
  await exited;
  clearTimeout(timer);
}

async function waitReady(url: string, dn: string, password: string, proc: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`slapd exited (${proc.exitCode ?? proc.signalCode}): ${stderr()}`);
    const client = new Client({ url, connectTimeout: 1000, timeout: 2000 });
    try {
      await client.bind(dn, password);
      return;
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`slapd did not answer on ${url}: ${String(e)} ${stderr()}`);
    } finally {
      await client.unbind().catch(() => undefined);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
