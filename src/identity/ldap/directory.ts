import { NoSuchObjectError, type Client, type Entry } from 'ldapts';
import { withServiceConnection } from './connection.js';
import { escapeFilter, firstRdn, normalizeDn, wrapFilter } from './dn.js';
import type { EntityMapping, LdapSettings } from './settings.js';

/** A user entry as Keystone's LDAP driver models it (ids are the directory's, not public ids). */
export interface DirUser {
  readonly localId: string;
  readonly dn: string;
  readonly name: string;
  readonly enabled: boolean;
  readonly email?: string;
  readonly description?: string;
  readonly defaultProjectId?: string;
}

/** A group entry as Keystone's LDAP driver models it. */
export interface DirGroup {
  readonly localId: string;
  readonly dn: string;
  readonly name: string;
  readonly description?: string;
}

/** Ids per OR-filter when fetching many entries by id at once. */
const BATCH = 50;

/** All values of an attribute, found case-insensitively (servers may spell names differently). */
function values(entry: Entry, attr: string): string[] {
  const want = attr.toLowerCase();
  for (const [k, v] of Object.entries(entry)) {
    if (k.toLowerCase() !== want || k === 'dn') continue;
    const list = Array.isArray(v) ? v : [v];
    return list.map((x) => (Buffer.isBuffer(x) ? x.toString('utf8') : String(x)));
  }
  return [];
}
const first = (entry: Entry, attr: string): string | undefined => values(entry, attr)[0];

/**
 * The read-only view of one LDAP-backed domain's directory, following Keystone's LDAP identity
 * driver: searches under the user/group tree with the configured scope, object class and filter;
 * entries lacking an id or a non-blank name are skipped; membership is the group's member
 * attribute holding user DNs (or ids with `group_members_are_ids`).
 */
export class Directory {
  constructor(readonly settings: LdapSettings) {}

  /** Every user of the directory. */
  listUsers(): Promise<DirUser[]> {
    return withServiceConnection(this.settings, (c) => this.searchUsers(c, ''));
  }

  /** A user by its directory id (the id attribute's value). */
  async getUser(localId: string): Promise<DirUser | undefined> {
    return (await this.getUsers([localId]))[0];
  }

  /** Users by directory id, in one round trip per batch; missing ones are left out. */
  getUsers(localIds: readonly string[]): Promise<DirUser[]> {
    const u = this.settings.user;
    return withServiceConnection(this.settings, async (c) => {
      const out: DirUser[] = [];
      for (let i = 0; i < localIds.length; i += BATCH) {
        const ors = localIds.slice(i, i + BATCH).map((v) => `(${u.idAttribute}=${escapeFilter(v)})`).join('');
        const found = await this.searchUsers(c, ors.length ? `(|${ors})` : '');
        // Equality matching in the directory may ignore case; keep exact id matches first.
        for (const id of localIds.slice(i, i + BATCH)) {
          const hit = found.find((x) => x.localId === id) ?? found.find((x) => x.localId.toLowerCase() === id.toLowerCase());
          if (hit && !out.includes(hit)) out.push(hit);
        }
      }
      return out;
    });
  }

  /**
   * A user by name (the name attribute). Unlike Keystone, which drops `user_filter` here, the
   * filter applies: a user the filter hides cannot log in either.
   */
  async getUserByName(name: string): Promise<DirUser | undefined> {
    const found = await withServiceConnection(this.settings, (c) => this.searchUsers(c, `(${this.settings.user.nameAttribute}=${escapeFilter(name)})`));
    return found[0];
  }

  /** Every group of the directory. */
  listGroups(): Promise<DirGroup[]> {
    return withServiceConnection(this.settings, (c) => this.searchGroups(c, ''));
  }

  /** A group by its directory id. */
  async getGroup(localId: string): Promise<DirGroup | undefined> {
    const g = this.settings.group;
    const found = await withServiceConnection(this.settings, (c) => this.searchGroups(c, `(${g.idAttribute}=${escapeFilter(localId)})`));
    return found.find((x) => x.localId === localId) ?? found[0];
  }

  /** The groups whose member attribute names this user (by DN, or by id with group_members_are_ids). */
  groupsOf(user: DirUser): Promise<DirGroup[]> {
    const g = this.settings.group;
    const key = g.membersAreIds ? user.localId : user.dn;
    return withServiceConnection(this.settings, (c) => this.searchGroups(c, `(${g.memberAttribute}=${escapeFilter(key)})`));
  }

  /** The users a group's member attribute names; members that are not users of this directory are ignored. */
  async membersOf(group: DirGroup): Promise<DirUser[]> {
    const s = this.settings;
    const ids = await withServiceConnection(s, async (c) => {
      const members = await this.memberValues(c, group.dn, s.group.memberAttribute);
      if (s.group.membersAreIds) return members;
      const out: string[] = [];
      for (const dn of members) {
        const id = await this.dnToUserId(c, dn);
        if (id !== undefined) out.push(id);
      }
      return out;
    });
    return this.getUsers([...new Set(ids)]);
  }

  /** Keystone's `_dn_to_id`: the first RDN's value when it is the id attribute, else the entry's id attribute. */
  private async dnToUserId(c: Client, dn: string): Promise<string | undefined> {
    const rdn = firstRdn(dn);
    const idAttr = this.settings.user.idAttribute;
    if (rdn && rdn[0].toLowerCase() === idAttr.toLowerCase()) return rdn[1];
    const entries = await this.search(c, dn, 'base', '(objectClass=*)', [idAttr]);
    return entries[0] ? first(entries[0], idAttr) : undefined;
  }

  /** The values of a group-like entry's member attribute (base search); none when it does not exist. */
  private async memberValues(c: Client, dn: string, attr: string): Promise<string[]> {
    const entries = await this.search(c, dn, 'base', '(objectClass=*)', [attr]);
    return entries[0] ? values(entries[0], attr) : [];
  }

  private async searchUsers(c: Client, extra: string): Promise<DirUser[]> {
    const u = this.settings.user;
    const want = (k: string) => !u.ignore.includes(k);
    const attrs = [u.idAttribute, u.nameAttribute, u.mailAttribute, u.descriptionAttribute, u.enabledAttribute];
    if (u.defaultProjectIdAttribute) attrs.push(u.defaultProjectIdAttribute);
    const entries = (await this.searchEntities(c, u, extra, attrs)).filter((e) => !u.enabledEmulation || normalizeDn(e.dn) !== normalizeDn(u.enabledEmulationDn));
    let enabledSet: Set<string> | undefined;
    if (u.enabledEmulation && want('enabled')) {
      const memberAttr = u.enabledEmulationUseGroupConfig ? this.settings.group.memberAttribute : 'member';
      const byId = u.enabledEmulationUseGroupConfig && this.settings.group.membersAreIds;
      const members = await this.memberValues(c, u.enabledEmulationDn, memberAttr);
      enabledSet = new Set(members.map((m) => (byId ? m : normalizeDn(m))));
    }
    const byIdEmulation = u.enabledEmulationUseGroupConfig && this.settings.group.membersAreIds;
    return entries.flatMap((e) => {
      const base = this.entityBase(e, u);
      if (!base) return [];
      const user: { -readonly [K in keyof DirUser]: DirUser[K] } = { ...base, enabled: true };
      if (enabledSet) user.enabled = enabledSet.has(byIdEmulation ? base.localId : normalizeDn(e.dn));
      else if (want('enabled')) user.enabled = this.enabledOf(e);
      const mail = want('email') ? first(e, u.mailAttribute) : undefined;
      if (mail !== undefined) user.email = mail;
      const desc = want('description') ? first(e, u.descriptionAttribute) : undefined;
      if (desc !== undefined) user.description = desc;
      const dp = u.defaultProjectIdAttribute && want('default_project_id') ? first(e, u.defaultProjectIdAttribute) : undefined;
      if (dp !== undefined) user.defaultProjectId = dp;
      return [user];
    });
  }

  /** Keystone's enabled logic: a bit mask on an integer, or a boolean-ish string, optionally inverted. */
  private enabledOf(e: Entry): boolean {
    const u = this.settings.user;
    const raw = first(e, u.enabledAttribute) ?? u.enabledDefault;
    if (u.enabledMask !== 0) {
      const n = Number.parseInt(raw, 10);
      return ((Number.isFinite(n) ? n : 0) & u.enabledMask) !== u.enabledMask;
    }
    const on = raw.toLowerCase() === 'true';
    return u.enabledInvert ? !on : on;
  }

  private async searchGroups(c: Client, extra: string): Promise<DirGroup[]> {
    const g = this.settings.group;
    const entries = await this.searchEntities(c, g, extra, [g.idAttribute, g.nameAttribute, g.descriptionAttribute]);
    return entries.flatMap((e) => {
      const base = this.entityBase(e, g);
      if (!base) return [];
      const desc = g.ignore.includes('description') ? undefined : first(e, g.descriptionAttribute);
      return [desc === undefined ? base : { ...base, description: desc }];
    });
  }

  /** id, DN and name of an entry; undefined when it has no id or only a blank name (Keystone skips those). */
  private entityBase(e: Entry, m: EntityMapping): { localId: string; dn: string; name: string } | undefined {
    const ids = values(e, m.idAttribute);
    if (!ids.length) return undefined;
    let localId = ids[0];
    if (ids.length > 1) {
      const rdn = firstRdn(e.dn);
      if (rdn && rdn[0].toLowerCase() === m.idAttribute.toLowerCase()) localId = rdn[1];
    }
    const name = first(e, m.nameAttribute);
    if (!name || !name.trim()) return undefined;
    return { localId, dn: e.dn, name };
  }

  /** `(&<extra><configured filter>(objectClass=<class>)(<id>=*))` under the entity's tree. */
  private searchEntities(c: Client, m: EntityMapping, extra: string, attrs: string[]): Promise<Entry[]> {
    const filter = `(&${extra}${wrapFilter(m.filter)}(objectClass=${m.objectClass})(${m.idAttribute}=*))`;
    return this.search(c, m.treeDn, this.settings.scope, filter, [...new Set(attrs)]);
  }

  private async search(c: Client, base: string, scope: 'base' | 'one' | 'sub', filter: string, attributes: string[]): Promise<Entry[]> {
    const s = this.settings;
    try {
      const res = await c.search(base, {
        scope, filter, attributes, derefAliases: s.derefAliases,
        paged: s.pageSize > 0 && scope !== 'base' ? { pageSize: s.pageSize } : undefined,
      });
      return res.searchEntries;
    } catch (e) {
      if (e instanceof NoSuchObjectError) return [];
      throw e;
    }
  }
}
