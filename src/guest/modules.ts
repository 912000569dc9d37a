// Kernel modules for the guest: finds the wanted ones in an unpacked kernel package and orders
// them with their dependencies first. The package has no modules.dep (depmod runs at install,
// which we never do), so dependencies come from each module's own .modinfo "depends=" field.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Module names treat "-" and "_" alike (nls_iso8859-1.ko is module nls_iso8859_1). */
const norm = (name: string) => name.replace(/-/g, '_');

function indexModules(dir: string, out = new Map<string, string>()): Map<string, string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) indexModules(p, out);
    else if (e.name.endsWith('.ko')) out.set(norm(e.name.slice(0, -3)), p);
  }
  return out;
}

/** All values of one .modinfo field ("depends", "alias", …) of a module file. */
export function modinfo(ko: Buffer, field: string): string[] {
  const out: string[] = [];
  const key = Buffer.from(`\0${field}=`);
  for (let at = ko.indexOf(key); at >= 0; at = ko.indexOf(key, at + 1)) {
    const end = ko.indexOf(0, at + 1);
    out.push(ko.subarray(at + key.length, end).toString('latin1'));
  }
  return out;
}

/** The "depends=" list from a module's .modinfo strings. */
export function moduleDepends(ko: Buffer): string[] {
  const list = modinfo(ko, 'depends')[0];
  return list ? list.split(',').map(norm) : [];
}

const SIG_MAGIC = Buffer.from('~Module signature appended~\n');
/** struct module_signature, between the signature and the magic: 8 bytes of ids and lengths, then sig_len (be32). */
const SIG_INFO = 12;

/**
 * The module without its appended signature (unchanged when it has none). Debian signs its
 * modules and the kernel, which does not enforce signatures, checks each one it loads (a
 * SHA-256 over the file and an RSA verification): about 10 ms per module under emulation, a
 * good part of the guest's boot. Loading unsigned modules only marks the kernel tainted ("E").
 */
export function stripModuleSignature(ko: Buffer): Buffer {
  if (ko.length < SIG_MAGIC.length + SIG_INFO || !ko.subarray(ko.length - SIG_MAGIC.length).equals(SIG_MAGIC)) return ko;
  const info = ko.length - SIG_MAGIC.length - SIG_INFO;
  const sigLen = ko.readUInt32BE(info + 8);
  if (sigLen > info) throw new Error('module signature: length beyond the file');
  return ko.subarray(0, info - sigLen);
}

export interface ResolvedModule {
  readonly name: string; readonly file: string; readonly relPath: string;
  readonly depends: readonly string[]; readonly aliases: readonly string[];
}

/**
 * modules.dep and modules.alias for `mods` (as resolved below), in the format busybox modprobe
 * reads: each module with all its dependencies, the ones to load last listed first.
 */
export function depmodFiles(mods: readonly ResolvedModule[]): { dep: string; alias: string } {
  const byName = new Map(mods.map((m) => [m.name, m]));
  const closure = (m: ResolvedModule, seen: Set<string>): Set<string> => {
    for (const d of m.depends) {
      const dm = byName.get(d);
      if (dm && !seen.has(d)) { seen.add(d); closure(dm, seen); }
    }
    return seen;
  };
  // `mods` is in load order (dependencies first); modprobe loads a line's list from its end.
  const dep = mods.map((m) => {
    const all = closure(m, new Set());
    const list = mods.filter((d) => all.has(d.name)).reverse().map((d) => d.relPath);
    return `${m.relPath}:${list.map((p) => ` ${p}`).join('')}\n`;
  }).join('');
  const alias = mods.flatMap((m) => m.aliases.map((a) => `alias ${a} ${m.name}\n`)).join('');
  return { dep, alias };
}

/**
 * The modules named in `wanted` plus their dependencies, dependencies first. `modulesDir` is
 * lib/modules/<release> of the unpacked kernel; modules built into the kernel (absent as .ko)
 * are skipped when listed in `builtin` (modules.builtin), anything else missing is an error.
 */
export function resolveModules(modulesDir: string, wanted: readonly string[]): ResolvedModule[] {
  const index = indexModules(join(modulesDir, 'kernel'));
  let builtin = new Set<string>();
  try {
    builtin = new Set(readFileSync(join(modulesDir, 'modules.builtin'), 'utf8').split('\n')
      .filter(Boolean).map((l) => norm(l.replace(/^.*\//, '').replace(/\.ko$/, ''))));
  } catch { /* older packages have no list: then every wanted module must exist */ }
  const order: ResolvedModule[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, chain: string[]) => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') throw new Error(`module dependency cycle: ${[...chain, name].join(' → ')}`);
    const file = index.get(name);
    if (!file) {
      if (builtin.has(name)) { state.set(name, 'done'); return; }
      throw new Error(`kernel module ${name} not found in ${modulesDir}`);
    }
    state.set(name, 'visiting');
    const ko = readFileSync(file);
    const depends = moduleDepends(ko).filter((d) => !builtin.has(d) || index.has(d));
    for (const dep of depends) visit(dep, [...chain, name]);
    state.set(name, 'done');
    order.push({ name, file, relPath: relative(modulesDir, file), depends, aliases: modinfo(ko, 'alias') });
  };
  for (const w of wanted) visit(norm(w), []);
  return order;
}
