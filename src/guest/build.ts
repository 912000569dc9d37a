// Builds the Nephos guest from Debian packages: Debian's cloud kernel (downloaded and unpacked,
// never installed on the host), an initramfs of busybox-static + dropbear + the recipe in
// guest/, and a bootable qcow2 disk with the same kernel and initramfs. The result is cached in
// outDir with a manifest of its inputs; a call with unchanged inputs returns the cached files.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, copyFileSync, lstatSync, readlinkSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../platform/log.js';
import { buildCpio, type CpioEntry } from './cpio.js';
import { buildRawDisk, toQcow2 } from './disk.js';
import { depmodFiles, resolveModules, stripModuleSignature } from './modules.js';
import { run } from './run.js';

export interface GuestArtifacts {
  /** The kernel (register as disk_format aki). */
  readonly kernel: string;
  /** The initramfs, an LZ4-compressed (legacy format) newc cpio (register as disk_format ari). */
  readonly ramdisk: string;
  /** The bootable disk (qcow2) with the same kernel and initramfs. */
  readonly disk: string;
  /** Identifies the inputs: 16 hex digits of their hash. */
  readonly version: string;
  /** The kernel's release, e.g. 6.1.0-56-cloud-amd64. */
  readonly kernelRelease: string;
  /** The kernel command line for direct boot (the disk's boot loader uses the same). */
  readonly cmdline: string;
  readonly sizes: { readonly kernel: number; readonly ramdisk: number; readonly disk: number; readonly diskVirtual: number };
  /** Debian packages the artifacts were made from, with their versions. */
  readonly packages: Readonly<Record<string, string>>;
  /** True when this call built them, false when they came from the cache. */
  readonly built: boolean;
}

interface Manifest { inputsHash: string; artifacts: Omit<GuestArtifacts, 'built' | 'kernel' | 'ramdisk' | 'disk'> }

const FILES = { kernel: 'vmlinuz', ramdisk: 'initrd', disk: 'disk.qcow2', manifest: 'manifest.json' } as const;
const KERNEL_META_PACKAGE = 'linux-image-cloud-amd64';
const BUSYBOX = '/bin/busybox';
const DROPBEAR = '/usr/sbin/dropbear';
const HOST_PACKAGES = ['busybox-static', 'dropbear-bin', 'libc6', 'syslinux', 'syslinux-common', 'mtools', 'dosfstools', 'qemu-utils', 'lz4'];

const here = dirname(fileURLToPath(import.meta.url));
/** guest/ of the repository (this file runs as dist/src/guest/build.js). */
export const defaultRecipeDir = join(here, '..', '..', '..', 'guest');

function walk(dir: string, base = dir): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p, base));
    else out.push(relative(base, p));
  }
  return out.sort();
}

/** Installed versions of Debian packages ("absent" for those not installed). */
async function dpkgVersions(pkgs: readonly string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = Object.fromEntries(pkgs.map((p) => [p, 'absent']));
  // dpkg-query exits 1 when some package is unknown but still prints the others.
  const r = await run('dpkg-query', ['-W', '-f=${Package} ${db:Status-Abbrev} ${Version}\n', ...pkgs]).catch(() => null);
  for (const line of r?.stdout.split('\n') ?? []) {
    const [name, status, version] = line.split(/\s+/);
    if (name && name in out && status === 'ii' && version) out[name] = version;
  }
  return out;
}

/** The exact kernel package linux-image-cloud-amd64 currently points at (from apt's lists, offline). */
async function kernelPackage(): Promise<{ name: string; version: string; release: string }> {
  const show = () => run('apt-cache', ['show', '--no-all-versions', KERNEL_META_PACKAGE]);
  // A fresh machine may have no package lists yet: fetch them once.
  const { stdout } = await show().catch(async () => {
    await run('apt-get', ['update', '-q'], { timeoutMs: 600_000 });
    return show();
  });
  const m = /^Depends:.*?(linux-image-(\d[^\s,()]*-cloud-amd64)) \(= ([^)]+)\)/m.exec(stdout);
  if (!m) throw new Error(`cannot resolve the kernel package from ${KERNEL_META_PACKAGE} (apt lists missing? run apt-get update)`);
  return { name: m[1]!, release: m[2]!, version: m[3]! };
}

/** Shared libraries of a dynamically linked program, with the loader, as ldd resolves them. */
async function sharedLibs(program: string): Promise<string[]> {
  const { stdout } = await run('ldd', [program]);
  const libs: string[] = [];
  for (const line of stdout.split('\n')) {
    const m = /=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m) libs.push(m[1]!);
  }
  if (!libs.length) throw new Error(`ldd found no libraries for ${program}`);
  return libs;
}

interface Inputs {
  hash: string; cmdline: string; kernelPkg: { name: string; version: string; release: string };
  packages: Record<string, string>; recipeFiles: string[]; libs: string[];
}

async function gatherInputs(recipeDir: string): Promise<Inputs> {
  const h = createHash('sha256');
  const add = (label: string, data: Buffer | string) => { h.update(`${label}\0${data.length}\0`); h.update(data); };
  // The builder itself is an input: a changed builder rebuilds.
  for (const f of readdirSync(here).filter((f) => f.endsWith('.js') && !f.endsWith('.test.js') && f !== 'cli.js').sort()) add(`builder/${f}`, readFileSync(join(here, f)));
  const recipeFiles = walk(recipeDir);
  for (const f of recipeFiles) {
    const p = join(recipeDir, f);
    add(`recipe/${f}/${statSync(p).mode & 0o111 ? 'x' : '-'}`, readFileSync(p));
  }
  const kernelPkg = await kernelPackage();
  add('kernel', `${kernelPkg.name}=${kernelPkg.version}`);
  const packages: Record<string, string> = { [kernelPkg.name]: kernelPkg.version, ...await dpkgVersions(HOST_PACKAGES) };
  add('packages', JSON.stringify(packages));
  const libs = await sharedLibs(DROPBEAR);
  for (const f of [BUSYBOX, DROPBEAR, ...libs]) add(`host${f}`, readFileSync(f));
  const cmdline = readFileSync(join(recipeDir, 'cmdline'), 'utf8').trim();
  return { hash: h.digest('hex').slice(0, 16), cmdline, kernelPkg, packages, recipeFiles, libs };
}

function cachedArtifacts(outDir: string, hash: string): GuestArtifacts | null {
  try {
    const m = JSON.parse(readFileSync(join(outDir, FILES.manifest), 'utf8')) as Manifest;
    if (m.inputsHash !== hash) return null;
    const a = { ...m.artifacts, kernel: join(outDir, FILES.kernel), ramdisk: join(outDir, FILES.ramdisk), disk: join(outDir, FILES.disk), built: false };
    if (statSync(a.kernel).size !== a.sizes.kernel || statSync(a.ramdisk).size !== a.sizes.ramdisk || statSync(a.disk).size !== a.sizes.disk) return null;
    return a;
  } catch { return null; }
}

/** The initramfs contents: the recipe's rootfs, busybox with its applet links, dropbear with its libraries, modules. */
async function initramfsEntries(inp: Inputs, recipeDir: string, modulesDir: string): Promise<CpioEntry[]> {
  const entries: CpioEntry[] = [];
  // Every directory the boot script writes to, with its mode, so that the boot spends no
  // programs on mkdir/chmod (each one is a fork and exec under emulation).
  for (const d of ['dev', 'proc', 'sys', 'run', 'run/nephos', 'run/nephos/metadata', 'mnt', 'mnt/config', 'var/log', 'var/empty', 'etc/dropbear']) entries.push({ path: d, type: 'dir', mode: 0o755 });
  entries.push({ path: 'tmp', type: 'dir', mode: 0o1777 }, { path: 'root', type: 'dir', mode: 0o700 }, { path: 'root/.ssh', type: 'dir', mode: 0o700 });
  entries.push({ path: 'dev/console', type: 'char', mode: 0o600, major: 5, minor: 1 },
    { path: 'dev/null', type: 'char', mode: 0o666, major: 1, minor: 3 });

  const applets = (await run(BUSYBOX, ['--list-full'])).stdout.split('\n').filter((a) => a && a !== 'bin/busybox');
  for (const a of applets) entries.push({ path: a, type: 'symlink', target: '/bin/busybox' });
  entries.push({ path: 'bin/busybox', type: 'file', mode: 0o755, data: readFileSync(BUSYBOX) });
  entries.push({ path: 'init', type: 'symlink', target: '/bin/busybox' });

  entries.push({ path: 'usr/sbin/dropbear', type: 'file', mode: 0o755, data: readFileSync(DROPBEAR) });
  for (const lib of inp.libs) entries.push({ path: lib, type: 'file', mode: 0o755, data: readFileSync(lib) });

  const wanted = readFileSync(join(recipeDir, 'modules'), 'utf8').split('\n').map((l) => l.replace(/#.*/, '').trim()).filter(Boolean);
  const mods = resolveModules(modulesDir, wanted);
  const modRoot = `lib/modules/${inp.kernelPkg.release}`;
  for (const m of mods) entries.push({ path: `${modRoot}/${m.relPath}`, type: 'file', mode: 0o644, data: stripModuleSignature(readFileSync(m.file)) });
  const depmod = depmodFiles(mods);
  entries.push({ path: `${modRoot}/modules.dep`, type: 'file', mode: 0o644, data: Buffer.from(depmod.dep) },
    { path: `${modRoot}/modules.alias`, type: 'file', mode: 0o644, data: Buffer.from(depmod.alias) });

  // The recipe last: its files win over anything above.
  const rootfs = join(recipeDir, 'rootfs');
  for (const f of walk(rootfs)) {
    const p = join(rootfs, f);
    if (lstatSync(p).isSymbolicLink()) entries.push({ path: f, type: 'symlink', target: readlinkSync(p) });
    else entries.push({ path: f, type: 'file', mode: statSync(p).mode & 0o111 ? 0o755 : 0o644, data: readFileSync(p) });
  }
  return entries;
}

/** Builds the guest into outDir, or returns the cached build when its inputs are unchanged. */
export async function buildGuest(opts: { outDir: string; log?: Logger; recipeDir?: string }): Promise<GuestArtifacts> {
  const recipeDir = opts.recipeDir ?? defaultRecipeDir;
  const inp = await gatherInputs(recipeDir);
  const cached = cachedArtifacts(opts.outDir, inp.hash);
  if (cached) {
    opts.log?.debug({ outDir: opts.outDir, version: cached.version }, 'guest image up to date');
    return cached;
  }
  const started = Date.now();
  opts.log?.info({ outDir: opts.outDir, kernel: `${inp.kernelPkg.name}=${inp.kernelPkg.version}` }, 'building the guest image');
  mkdirSync(dirname(opts.outDir), { recursive: true });
  // Built beside outDir (same file system) so that it can be renamed into place whole.
  const tmp = mkdtempSync(join(dirname(opts.outDir), `.${basename(opts.outDir)}.build-`));
  try {
    const dl = join(tmp, 'download');
    mkdirSync(dl);
    await run('apt-get', ['download', `${inp.kernelPkg.name}=${inp.kernelPkg.version}`], { cwd: dl, timeoutMs: 600_000 });
    const deb = readdirSync(dl).find((f) => f.endsWith('.deb'));
    if (!deb) throw new Error(`apt-get download ${inp.kernelPkg.name} produced no .deb`);
    const unpacked = join(tmp, 'kernel');
    await run('dpkg-deb', ['-x', join(dl, deb), unpacked], { timeoutMs: 300_000 });
    const release = inp.kernelPkg.release;
    copyFileSync(join(unpacked, 'boot', `vmlinuz-${release}`), join(tmp, FILES.kernel));

    const entries = await initramfsEntries(inp, recipeDir, join(unpacked, 'lib', 'modules', release));
    // LZ4 rather than gzip: the kernel unpacks the initramfs before init starts, and under TCG
    // inflating gzip takes ~0.1 s longer; a raw cpio unpacks a little faster still but doubles
    // what the disk's boot loader has to read through the BIOS. Legacy format (-l) is the one
    // the kernel's LZ4 decompressor reads.
    const cpio = join(tmp, 'initrd.cpio');
    writeFileSync(cpio, buildCpio(entries));
    await run('lz4', ['-l', '-9', '-q', '-f', cpio, join(tmp, FILES.ramdisk)], { timeoutMs: 120_000 });
    rmSync(cpio);
    rmSync(dl, { recursive: true, force: true });
    rmSync(unpacked, { recursive: true, force: true });

    const syslinuxCfg = readFileSync(join(recipeDir, 'syslinux.cfg'), 'utf8').replaceAll('@CMDLINE@', inp.cmdline);
    const raw = join(tmp, 'disk.raw');
    const diskVirtual = await buildRawDisk({ kernel: join(tmp, FILES.kernel), initrd: join(tmp, FILES.ramdisk), syslinuxCfg, workDir: tmp }, raw);
    await toQcow2(raw, join(tmp, FILES.disk));
    rmSync(raw);

    const artifacts: Manifest['artifacts'] = {
      version: inp.hash, kernelRelease: release, cmdline: inp.cmdline, packages: inp.packages,
      sizes: {
        kernel: statSync(join(tmp, FILES.kernel)).size, ramdisk: statSync(join(tmp, FILES.ramdisk)).size,
        disk: statSync(join(tmp, FILES.disk)).size, diskVirtual,
      },
    };
    writeFileSync(join(tmp, FILES.manifest), `${JSON.stringify({ inputsHash: inp.hash, artifacts } satisfies Manifest, null, 2)}\n`);
    // Swap in: the old build (if any) moves aside first, then goes.
    const old = existsSync(opts.outDir) ? `${tmp}.old` : null;
    if (old) renameSync(opts.outDir, old);
    renameSync(tmp, opts.outDir);
    if (old) rmSync(old, { recursive: true, force: true });
    opts.log?.info({ outDir: opts.outDir, version: inp.hash, sizes: artifacts.sizes, ms: Date.now() - started }, 'guest image built');
    return { ...artifacts, kernel: join(opts.outDir, FILES.kernel), ramdisk: join(opts.outDir, FILES.ramdisk), disk: join(opts.outDir, FILES.disk), built: true };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
