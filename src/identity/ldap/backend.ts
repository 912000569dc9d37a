import type { Identity } from '../identity.js';
import { memo } from '../assignments/effective.js';
import type { DomainConfig } from '../domain-config/options.js';
import { getDomainConfig, ldapDomainIds } from '../domain-config/store.js';
import { Fault } from '../../platform/http/faults.js';
import { DirectoryUnavailable } from './connection.js';
import { Directory, type DirGroup, type DirUser } from './directory.js';
import { mapIds, resolvePublicId } from './id-mapping.js';
import { isLdapConfig, ldapSettings } from './settings.js';

/** A directory user with its public id and domain. */
export interface LdapUser extends DirUser { readonly publicId: string; readonly domainId: string }
/** A directory group with its public id and domain. */
export interface LdapGroup extends DirGroup { readonly publicId: string; readonly domainId: string }

/**
 * How long directory answers are reused. The directory tells nobody when it changes, so this
 * bounds how stale users, groups and memberships may be (Keystone's identity cache plays the
 * same part); changing the domain's configuration takes effect at once.
 */
export const DIRECTORY_CACHE_MS = 60_000;

interface Cached { at: number; value: unknown }

/** Directory of a configuration object, memoised so the cache key (its settings) is computed once. */
const directories = new WeakMap<DomainConfig, { dir: Directory; key: string }>();

/**
 * The LDAP-backed domains of one identity service: which domains are LDAP, their directories,
 * and cached, public-id-mapped reads of users, groups and memberships.
 */
export class LdapDomains {
  #cache = new Map<string, Cached>();

  constructor(private readonly id: Identity) {}

  /** Ids of the LDAP-backed domains (cached until the next identity write). */
  domainIds(): Promise<string[]> {
    return memo(this.id, 'ldap-domain-ids', () => ldapDomainIds(this.id));
  }

  /** Whether a domain is backed by LDAP. */
  async isLdap(domainId: string): Promise<boolean> {
    return (await this.domainIds()).includes(domainId) && isLdapConfig(await getDomainConfig(this.id, domainId));
  }

  /** The directory of an LDAP-backed domain; undefined for SQL domains. */
  async directory(domainId: string): Promise<{ dir: Directory; key: string } | undefined> {
    if (!(await this.domainIds()).includes(domainId)) return undefined;
    const config = await getDomainConfig(this.id, domainId);
    if (!isLdapConfig(config)) return undefined;
    let d = directories.get(config);
    if (!d) {
      const settings = ldapSettings(config);
      d = { dir: new Directory(settings), key: `${domainId}:${JSON.stringify(settings)}` };
      directories.set(config, d);
    }
    return d;
  }

  /** All users of an LDAP-backed domain ([] for other domains). */
  async listUsers(domainId: string): Promise<LdapUser[]> {
    const d = await this.directory(domainId);
    if (!d) return [];
    const users = await this.cached(d.key, 'users', () => d.dir.listUsers());
    return this.withUserIds(domainId, users);
  }

  /** A user by public id; undefined when the id is not an LDAP user's or the entry is gone. */
  async getUser(publicId: string): Promise<LdapUser | undefined> {
    const m = await resolvePublicId(this.id, publicId);
    if (!m || m.type !== 'user') return undefined;
    const d = await this.directory(m.domainId);
    if (!d) return undefined;
    const u = await this.cached(d.key, `user:${m.localId}`, () => d.dir.getUser(m.localId));
    return u ? { ...u, publicId, domainId: m.domainId } : undefined;
  }

  /** A user of an LDAP-backed domain by name. */
  async getUserByName(domainId: string, name: string): Promise<LdapUser | undefined> {
    const d = await this.directory(domainId);
    if (!d) return undefined;
    const u = await this.cached(d.key, `user-name:${name}`, () => d.dir.getUserByName(name));
    return u ? (await this.withUserIds(domainId, [u]))[0] : undefined;
  }

  /** All groups of an LDAP-backed domain ([] for other domains). */
  async listGroups(domainId: string): Promise<LdapGroup[]> {
    const d = await this.directory(domainId);
    if (!d) return [];
    const groups = await this.cached(d.key, 'groups', () => d.dir.listGroups());
    return this.withGroupIds(domainId, groups);
  }

  /** A group by public id; undefined when the id is not an LDAP group's or the entry is gone. */
  async getGroup(publicId: string): Promise<LdapGroup | undefined> {
    const m = await resolvePublicId(this.id, publicId);
    if (!m || m.type !== 'group') return undefined;
    const d = await this.directory(m.domainId);
    if (!d) return undefined;
    const g = await this.cached(d.key, `group:${m.localId}`, () => d.dir.getGroup(m.localId));
    return g ? { ...g, publicId, domainId: m.domainId } : undefined;
  }

  /** The directory groups a user belongs to. */
  async groupsOf(user: LdapUser): Promise<LdapGroup[]> {
    const d = await this.directory(user.domainId);
    if (!d) return [];
    const groups = await this.cached(d.key, `groups-of:${user.dn}`, () => d.dir.groupsOf(user));
    return this.withGroupIds(user.domainId, groups);
  }

  /** The directory users a group names as members. */
  async membersOf(group: LdapGroup): Promise<LdapUser[]> {
    const d = await this.directory(group.domainId);
    if (!d) return [];
    const users = await this.cached(d.key, `members-of:${group.dn}`, () => d.dir.membersOf(group));
    return this.withUserIds(group.domainId, users);
  }

  /** Reuses a directory answer for DIRECTORY_CACHE_MS; turns an unreachable directory into a 500. */
  private async cached<T>(key: string, what: string, load: () => Promise<T>): Promise<T> {
    const k = `${key}|${what}`;
    const hit = this.#cache.get(k);
    const now = Date.now();
    if (hit && now - hit.at < DIRECTORY_CACHE_MS) return hit.value as T;
    let value: T;
    try {
      value = await load();
    } catch (e) {
      throw this.unavailable(e);
    }
    if (this.#cache.size > 20_000) this.#cache.clear();
    // A miss is not kept: the entry may be added to the directory any moment.
    if (value !== undefined) this.#cache.set(k, { at: now, value });
    return value;
  }

  /** Logs why the directory failed and answers as Keystone does for backend errors (500, no details). */
  unavailable(e: unknown): Error {
    if (e instanceof Fault) return e;
    this.id.log.error({ err: e instanceof DirectoryUnavailable ? e.message : String(e) }, 'LDAP identity backend failed');
    return new Fault(500, 'An unexpected error prevented the server from fulfilling your request.', {}, 'Internal Server Error');
  }

  private async withUserIds(domainId: string, users: readonly DirUser[]): Promise<LdapUser[]> {
    const ids = await mapIds(this.id, domainId, 'user', users.map((u) => u.localId));
    return users.map((u) => ({ ...u, publicId: ids.get(u.localId)!, domainId }));
  }

  private async withGroupIds(domainId: string, groups: readonly DirGroup[]): Promise<LdapGroup[]> {
    const ids = await mapIds(this.id, domainId, 'group', groups.map((g) => g.localId));
    return groups.map((g) => ({ ...g, publicId: ids.get(g.localId)!, domainId }));
  }
}

const instances = new WeakMap<Identity, LdapDomains>();

/** The LDAP-backed domains of an identity service (one instance per service). */
export function ldapDomains(id: Identity): LdapDomains {
  let l = instances.get(id);
  if (!l) { l = new LdapDomains(id); instances.set(id, l); }
  return l;
}
