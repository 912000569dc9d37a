import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { optionTable, type OptionDef, type OptionTable, type SectionName } from './options.js';

type Value<D extends OptionDef> = D['type'] extends 'number' ? number
  : D['type'] extends 'boolean' ? boolean
  : D['type'] extends 'list' ? string[]
  : D['default'] extends null ? string | null : string;

/** The effective configuration: every option of every section, typed. */
export type Config = { readonly [S in SectionName]: { readonly [K in keyof OptionTable[S]]: Value<OptionTable[S][K] & OptionDef> } };

/** Where the configuration file is looked for when NEPHOS_CONFIG is not set. */
export const defaultConfigPaths = ['/etc/nephos/nephos.yaml'];

/** A config error names the offending section and option. */
export class ConfigError extends Error {}

function coerce(def: OptionDef, raw: unknown, where: string): unknown {
  if (raw === null || raw === undefined || raw === '') return def.type === 'string' ? (raw === '' ? '' : null) : def.default;
  switch (def.type) {
    case 'number': {
      const n = typeof raw === 'number' ? raw : Number(raw);
      if (!Number.isFinite(n)) throw new ConfigError(`${where}: expected a number, got ${JSON.stringify(raw)}`);
      return n;
    }
    case 'boolean':
      if (typeof raw === 'boolean') return raw;
      if (/^(true|1|yes|on)$/i.test(String(raw))) return true;
      if (/^(false|0|no|off)$/i.test(String(raw))) return false;
      throw new ConfigError(`${where}: expected a boolean, got ${JSON.stringify(raw)}`);
    case 'list':
      return Array.isArray(raw) ? raw.map(String) : String(raw).split(',').map((s) => s.trim()).filter(Boolean);
    default:
      return String(raw);
  }
}

/**
 * Loads the configuration: defaults, then the YAML file (NEPHOS_CONFIG or /etc/nephos/nephos.yaml),
 * then environment overrides NEPHOS_<SECTION>_<OPTION> (e.g. NEPHOS_IDENTITY_TOKEN_EXPIRATION=600),
 * then `overrides` from the caller (tests). Unknown sections or options in the file are errors.
 */
export function loadConfig(opts: { file?: string; env?: NodeJS.ProcessEnv; overrides?: Record<string, Record<string, unknown>> } = {}): Config {
  const env = opts.env ?? process.env;
  const file = opts.file ?? env.NEPHOS_CONFIG ?? defaultConfigPaths.find((p) => existsSync(p));
  let fromFile: Record<string, Record<string, unknown>> = {};
  if (file) {
    const parsed = parseYaml(readFileSync(file, 'utf8')) ?? {};
    if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError(`${file}: expected a mapping of sections`);
    fromFile = parsed as Record<string, Record<string, unknown>>;
  }
  const out: Record<string, Record<string, unknown>> = {};
  for (const [section, options] of Object.entries(fromFile)) {
    if (!(section in optionTable)) throw new ConfigError(`${file}: unknown section [${section}]`);
    for (const name of Object.keys(options ?? {})) {
      if (!(name in optionTable[section as SectionName])) throw new ConfigError(`${file}: unknown option ${section}.${name}`);
    }
  }
  for (const [section, options] of Object.entries(optionTable)) {
    const values: Record<string, unknown> = {};
    for (const [name, def] of Object.entries(options) as [string, OptionDef][]) {
      const envName = `NEPHOS_${section.toUpperCase()}_${name.toUpperCase()}`;
      let raw: unknown = def.default;
      if (fromFile[section] && name in fromFile[section]) raw = fromFile[section][name];
      if (env[envName] !== undefined) raw = env[envName];
      if (opts.overrides?.[section] && name in opts.overrides[section]) raw = opts.overrides[section][name];
      values[name] = raw === def.default ? def.default : coerce(def, raw, `${section}.${name}`);
    }
    out[section] = values;
  }
  const cfg = out as unknown as Config;
  return withDerivedDefaults(cfg);
}

/** Options whose default depends on another option (the state directory). */
function withDerivedDefaults(cfg: Config): Config {
  const state = cfg.platform.state_dir;
  return {
    ...cfg,
    database: { ...cfg.database, url: cfg.database.url ?? `sqlite://${join(state, 'nephos.db')}` },
    identity: { ...cfg.identity, key_repository: cfg.identity.key_repository ?? join(state, 'fernet-keys') },
    image: { ...cfg.image, data_dir: cfg.image.data_dir ?? join(state, 'images'), staging_dir: cfg.image.staging_dir ?? join(state, 'image-staging') },
  };
}

/** The effective config as YAML-ready data with secrets masked, for `nephos config show`. */
export function describeConfig(cfg: Config): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [section, options] of Object.entries(optionTable)) {
    out[section] = {};
    for (const [name, def] of Object.entries(options) as [string, OptionDef][]) {
      const v = (cfg as any)[section][name];
      out[section][name] = def.secret && v ? maskSecret(String(v)) : v;
    }
  }
  return out;
}

/** Masks a secret; in URLs only the password part is hidden so the host stays readable. */
export function maskSecret(v: string): string {
  try {
    const u = new URL(v);
    if (u.password) { u.password = '***'; return u.toString(); }
    if (u.protocol && u.host) return v;
  } catch { /* not a URL */ }
  return '***';
}
