/**
 * A fleet of simulated hosts for scale work only: N named fake hosts (`fake-0001`, `fake-0002`,
 * …), each with its own FakeDriver. The compute agent (or a bench) registers each as a compute
 * service and reports its capacity, as it would for a real host.
 */
import { FakeDriver, type FakeHostSize } from './driver.js';

/** One simulated host: its name (the compute service's host) and its driver. */
export interface FakeHost {
  readonly name: string;
  readonly driver: FakeDriver;
}

export interface FakeHostsOptions extends FakeHostSize {
  /** How many hosts (`compute.fake_hosts`). */
  readonly count: number;
  /** Name prefix (default `fake-`); names are the prefix and a zero-padded number from 1. */
  readonly prefix?: string;
  /** Per-host capacity, overriding the common one (e.g. a few big hosts among small ones). */
  readonly sizeOf?: (name: string, index: number) => FakeHostSize | undefined;
  /** Where the hosts' snapshots go (default: the driver's). */
  readonly snapshotDir?: string;
}

/** N simulated hosts, for scale work only. */
export class FakeHosts implements Iterable<FakeHost> {
  readonly hosts: readonly FakeHost[];
  readonly #byName: ReadonlyMap<string, FakeHost>;

  constructor(o: FakeHostsOptions) {
    if (!Number.isInteger(o.count) || o.count < 0 || o.count > 100_000) throw new RangeError(`fake host count must be an integer from 0 to 100000: ${o.count}`);
    const prefix = o.prefix ?? 'fake-';
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/.test(prefix)) throw new RangeError(`invalid fake host prefix ${JSON.stringify(prefix)}`);
    const width = Math.max(4, String(o.count).length);
    const hosts: FakeHost[] = [];
    for (let i = 1; i <= o.count; i++) {
      const name = `${prefix}${String(i).padStart(width, '0')}`;
      const size = { vcpus: o.vcpus, memoryMb: o.memoryMb, localGb: o.localGb, ...o.sizeOf?.(name, i) };
      hosts.push({ name, driver: new FakeDriver({ ...size, host: name, snapshotDir: o.snapshotDir }) });
    }
    this.hosts = hosts;
    this.#byName = new Map(hosts.map((h) => [h.name, h]));
  }

  get size(): number {
    return this.hosts.length;
  }

  get names(): string[] {
    return this.hosts.map((h) => h.name);
  }

  /** The driver of host `name`, or undefined. */
  driver(name: string): FakeDriver | undefined {
    return this.#byName.get(name)?.driver;
  }

  [Symbol.iterator](): Iterator<FakeHost> {
    return this.hosts[Symbol.iterator]();
  }
}
