import { existsSync, readFileSync, writeFileSync, mkdirSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { homedir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { parseDocument, YAMLMap } from 'yaml';

/** One clouds.yaml entry. */
export interface CloudEntry {
  readonly authUrl: string;
  readonly username: string;
  readonly password: string;
  readonly projectName: string;
  readonly region: string;
}

export const defaultCloudsYaml = () => join(homedir(), '.config', 'openstack', 'clouds.yaml');

/**
 * Writes entries into clouds.yaml, merging: other clouds, comments and keys are kept; only the
 * named entries are replaced. Written atomically with mode 0600 (it holds passwords).
 */
export function mergeCloudsYaml(entries: Readonly<Record<string, CloudEntry>>, file = defaultCloudsYaml()): void {
  const doc = parseDocument(existsSync(file) ? readFileSync(file, 'utf8') : '');
  if (doc.errors.length) throw new Error(`${file} is not valid YAML (${doc.errors[0].message}); not touching it.`);
  if (!(doc.contents instanceof YAMLMap)) doc.contents = doc.createNode({}) as never;
  if (!doc.has('clouds')) doc.set('clouds', doc.createNode({}));
  for (const [name, e] of Object.entries(entries)) {
    doc.setIn(['clouds', name], doc.createNode({
      auth: {
        auth_url: e.authUrl, username: e.username, password: e.password, project_name: e.projectName,
        user_domain_name: 'Default', project_domain_name: 'Default',
      },
      region_name: e.region,
      identity_api_version: 3,
      interface: 'public',
    }));
  }
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  // A temporary name of this writer's own: `up --detach` has the parent and the started child
  // write at about the same time, and a shared name let one rename the other's file away (ENOENT).
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.nephos-tmp`;
  writeFileSync(tmp, doc.toString(), { mode: 0o600 });
  renameSync(tmp, file);
}
