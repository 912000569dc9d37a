/**
 * Group-aware scheduling: the conductor's scheduler, wrapped so that a request for a server
 * group's members sees the group as it is when it is scheduled, not as it was when the API took
 * the request. Two creates of one anti-affinity group sent back to back would otherwise both be
 * scheduled before either member has a host recorded, and could land on the same host.
 *
 * Requests of one group are scheduled one at a time (in this process); each reads the hosts of
 * the group's members afresh, counting the hosts chosen for earlier requests whose instances do
 * not have them recorded yet. (Nova narrows the same race with a late check on the compute host
 * and a reschedule; here it does not arise among the requests of one conductor process.)
 */
import type { Kysely } from 'kysely';
import type { SchedulerApi } from './conductor.js';
import type { RequestSpec, Selection } from '../scheduler/types.js';
import { groupsDb, memberPlacements } from './groups.js';
import type { GroupsDB } from './groups-schema.js';

/** How long a chosen host stands in for a record that does not show it yet (ms). */
const PENDING_MS = 10 * 60_000;

export class GroupAwareScheduler implements SchedulerApi {
  readonly #db: Kysely<GroupsDB>;
  readonly #inner: SchedulerApi;
  /** The tail of each group's queue of scheduling requests. */
  readonly #queues = new Map<string, Promise<unknown>>();
  /** Instance → host chosen for it, until its record shows a host (or PENDING_MS passed). */
  readonly #chosen = new Map<string, { host: string; at: number }>();

  constructor(db: unknown, inner: SchedulerApi) {
    this.#db = groupsDb(db);
    this.#inner = inner;
  }

  async selectDestinations(spec: RequestSpec): Promise<Selection[]> {
    const group = spec.group;
    if (!group) return this.#inner.selectDestinations(spec);
    return this.#serially(group.uuid, async () => {
      const memberHosts = await this.#memberHosts(group.uuid, spec.instanceUuids);
      const selections = await this.#inner.selectDestinations({ ...spec, group: { ...group, memberHosts } });
      const now = Date.now();
      for (const s of selections) this.#chosen.set(s.instanceUuid, { host: s.host, at: now });
      return selections;
    });
  }

  /** Hosts of the group's other live members: recorded, or chosen by an earlier request. */
  async #memberHosts(groupUuid: string, requested: readonly string[]): Promise<string[]> {
    const now = Date.now();
    for (const [uuid, c] of this.#chosen) if (now - c.at > PENDING_MS) this.#chosen.delete(uuid);
    const skip = new Set(requested);
    const hosts: string[] = [];
    for (const m of await memberPlacements(this.#db, groupUuid)) {
      if (skip.has(m.uuid)) continue;
      if (m.host) {
        this.#chosen.delete(m.uuid);
        hosts.push(m.host);
      } else {
        const c = this.#chosen.get(m.uuid);
        if (c) hosts.push(c.host);
      }
    }
    return hosts;
  }

  /** Runs `work` after the group's earlier requests finished (whatever their outcome). */
  async #serially<T>(key: string, work: () => Promise<T>): Promise<T> {
    const before = this.#queues.get(key) ?? Promise.resolve();
    const mine = before.catch(() => undefined).then(work);
    const tail = mine.catch(() => undefined);
    this.#queues.set(key, tail);
    try {
      return await mine;
    } finally {
      if (this.#queues.get(key) === tail) this.#queues.delete(key);
    }
  }
}
