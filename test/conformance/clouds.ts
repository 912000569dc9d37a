import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';

/** Default clouds.yaml location used by openstacksdk. */
export function defaultCloudsFile(): string {
  return join(process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'openstack', 'clouds.yaml');
}

/** The `auth.password` of cloud `name` in a clouds.yaml, or undefined when absent. */
export function cloudPassword(name: string, file: string = defaultCloudsFile()): string | undefined {
  if (!existsSync(file)) return undefined;
  const doc: unknown = parse(readFileSync(file, 'utf8'));
  const clouds = (doc as { clouds?: Record<string, { auth?: { password?: unknown } }> } | null)?.clouds;
  const password = clouds?.[name]?.auth?.password;
  return typeof password === 'string' ? password : undefined;
}
