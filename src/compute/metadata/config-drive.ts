/**
 * The config drive: the metadata documents as files on an ISO 9660 image (Rock Ridge and Joliet
 * names, volume label `config-2`), laid out as Nova writes it — `ec2/<version>/meta-data.json`
 * (and `user-data`) for 2009-04-04 and latest, `openstack/<version>/meta_data.json`, `user_data`,
 * `vendor_data.json`, `network_data.json`, `vendor_data2.json` for every OpenStack version and
 * latest, injected files under `openstack/content/`. Built by genisoimage from a private temp dir.
 */
import { chmod, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { exec } from '../../platform/host/exec.js';
import { userDataBytes, type DocumentOptions } from './document-options.js';
import { ec2Tree, withoutNames } from './ec2.js';
import type { InstanceMetadata } from './model.js';
import {
  META_DATA, NETWORK_DATA, USER_DATA, VENDOR_DATA, VENDOR_DATA2, metaData, networkData, vendorData, vendorData2,
} from './openstack.js';
import {
  CONFIG_DRIVE_SKIPPED_EC2_VERSIONS, EC2_VERSIONS, HAVANA, LATEST, LIBERTY, NEWTON_TWO, OPENSTACK_VERSIONS, ec2Version, openstackVersion, osAtLeast,
} from './versions.js';

/** The volume label guests look for. */
export const CONFIG_DRIVE_LABEL = 'config-2';

/** One file of a config drive. */
export interface ConfigDriveFile {
  /** Relative path, e.g. `openstack/latest/meta_data.json`. */
  readonly path: string;
  readonly data: Buffer;
}

export interface ConfigDriveOptions extends DocumentOptions {
  /** The ISO's publisher field. */
  readonly publisher?: string;
  /** Mode of the image file (it may hold the admin password): default 0600. */
  readonly mode?: number;
  /** genisoimage's time bound (default 60 s). */
  readonly timeoutMs?: number;
}

const jsonFile = (path: string, v: unknown): ConfigDriveFile => ({ path, data: Buffer.from(JSON.stringify(v), 'utf8') });

/** Every file of the instance's config drive, in Nova's order. */
export function configDriveFiles(md: InstanceMetadata, o: DocumentOptions = {}): ConfigDriveFile[] {
  const files: ConfigDriveFile[] = [];
  for (const v of [...EC2_VERSIONS, LATEST]) {
    if (CONFIG_DRIVE_SKIPPED_EC2_VERSIONS.includes(v)) continue;
    const tree = ec2Tree(md, ec2Version(v)!, o);
    const ud = tree['user-data'];
    if (Buffer.isBuffer(ud)) files.push({ path: `ec2/${v}/user-data`, data: ud });
    files.push(jsonFile(`ec2/${v}/meta-data.json`, withoutNames(tree['meta-data']!)));
  }
  const injected = (md.files ?? []).map((f, i) => ({ path: f.path, key: String(i).padStart(4, '0'), data: Buffer.from(f.contents, 'base64') }));
  const extras = { adminPass: md.adminPass ?? null, files: injected.map((f) => ({ path: f.path, content_path: `/content/${f.key}` })) };
  const ud = userDataBytes(md);
  for (const v of [...OPENSTACK_VERSIONS, LATEST]) {
    const dated = openstackVersion(v)!;
    files.push(jsonFile(`openstack/${v}/${META_DATA}`, metaData(md, dated, o, extras)));
    if (ud !== null) files.push({ path: `openstack/${v}/${USER_DATA}`, data: ud });
    if (osAtLeast(dated, HAVANA)) files.push(jsonFile(`openstack/${v}/${VENDOR_DATA}`, vendorData(md)));
    if (osAtLeast(dated, LIBERTY)) files.push(jsonFile(`openstack/${v}/${NETWORK_DATA}`, networkData(md)));
    if (osAtLeast(dated, NEWTON_TWO)) files.push(jsonFile(`openstack/${v}/${VENDOR_DATA2}`, vendorData2(md)));
  }
  for (const f of injected) files.push({ path: `openstack/content/${f.key}`, data: f.data });
  return files;
}

/**
 * Writes the instance's config drive to `outPath` (an ISO 9660 image, label `config-2`). The image
 * appears whole or not at all: it is built beside `outPath` and renamed into place; the temp dir
 * holding the files is removed whatever happens.
 */
export async function buildConfigDrive(md: InstanceMetadata, outPath: string, o: ConfigDriveOptions = {}): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'nephos-configdrive-')); // 0700: the files may hold the admin password
  const partial = `${outPath}.${randomBytes(4).toString('hex')}.partial`;
  try {
    const root = join(dir, 'root');
    for (const f of configDriveFiles(md, o)) {
      const path = join(root, f.path);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, f.data);
    }
    await exec('genisoimage', [
      '-o', partial, '-ldots', '-allow-lowercase', '-allow-multidot', '-l', '-publisher', o.publisher ?? 'Nephos compute',
      '-quiet', '-J', '-r', '-V', CONFIG_DRIVE_LABEL, root,
    ], { timeoutMs: o.timeoutMs ?? 60_000 });
    await chmod(partial, o.mode ?? 0o600);
    await rename(partial, outPath);
  } finally {
    await rm(partial, { force: true });
    await rm(dir, { recursive: true, force: true });
  }
}
