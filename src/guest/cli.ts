// `nephos image build [--out DIR]`: builds (or finds up to date) the Nephos guest and prints
// its artifacts.
import { join, resolve } from 'node:path';
import { createLogger } from '../platform/log.js';
import { buildGuest } from './build.js';

/** The default place of the guest build: <state_dir>/guest. */
export const defaultGuestDir = (stateDir: string) => join(stateDir, 'guest');

export async function imageBuildCommand(args: readonly string[], stateDir: string): Promise<number> {
  const at = args.indexOf('--out');
  if (at >= 0 && !args[at + 1]) {
    console.error('nephos image build: --out needs a directory');
    return 2;
  }
  const outDir = resolve(at >= 0 ? args[at + 1]! : defaultGuestDir(stateDir));
  const a = await buildGuest({ outDir, log: createLogger({ level: 'warn' }) });
  const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
  console.log([
    `Nephos guest ${a.version} (${a.built ? 'built' : 'up to date'}) in ${outDir}`,
    `  kernel   ${a.kernel}  ${mb(a.sizes.kernel)}  (aki; Linux ${a.kernelRelease})`,
    `  ramdisk  ${a.ramdisk}  ${mb(a.sizes.ramdisk)}  (ari)`,
    `  disk     ${a.disk}  ${mb(a.sizes.disk)}  (qcow2, virtual ${mb(a.sizes.diskVirtual)})`,
    `  cmdline  ${a.cmdline}`,
  ].join('\n'));
  return 0;
}
