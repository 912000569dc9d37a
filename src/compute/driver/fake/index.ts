/** The fake compute driver: simulated hosts for scale work only. */
export { FakeDriver, type FakeDriverOptions, type FakeHostSize, type FakeOperation } from './driver.js';
export { FakeHosts, type FakeHost, type FakeHostsOptions } from './hosts.js';
