/**
 * The dated versions of the two metadata trees, as Nova numbers them. A version's documents hold
 * exactly the keys introduced at or before it; `latest` is the newest.
 */

/** EC2-compatible versions (the tree at `/` and `ec2/` on a config drive). */
export const EC2_VERSIONS = [
  '1.0', '2007-01-19', '2007-03-01', '2007-08-29', '2007-10-10', '2007-12-15', '2008-02-01', '2008-09-01', '2009-04-04',
] as const;

/** OpenStack versions, named after the release that introduced what they add. */
export const FOLSOM = '2012-08-10';
/** random_seed, password. */
export const GRIZZLY = '2013-04-04';
/** vendor_data.json. */
export const HAVANA = '2013-10-17';
/** project_id, network_data.json. */
export const LIBERTY = '2015-10-15';
/** devices. */
export const NEWTON_ONE = '2016-06-30';
/** vendor_data2.json. */
export const NEWTON_TWO = '2016-10-06';
/** a NIC device's vlan. */
export const OCATA = '2017-02-22';
/** a NIC device's vf_trusted. */
export const ROCKY = '2018-08-27';
/** dedicated_cpus. */
export const VICTORIA = '2020-10-14';
/** share devices. */
export const EPOXY = '2025-04-04';

export const OPENSTACK_VERSIONS = [FOLSOM, GRIZZLY, HAVANA, LIBERTY, NEWTON_ONE, NEWTON_TWO, OCATA, ROCKY, VICTORIA, EPOXY] as const;

export const LATEST = 'latest';

/** EC2 versions a config drive leaves out (Nova's default `config_drive_skip_versions`). */
export const CONFIG_DRIVE_SKIPPED_EC2_VERSIONS: readonly string[] = EC2_VERSIONS.slice(0, -1);

/** The dated OpenStack version a requested one means (`latest` → the newest), or null when unknown. */
export function openstackVersion(requested: string): string | null {
  if (requested === LATEST) return OPENSTACK_VERSIONS[OPENSTACK_VERSIONS.length - 1]!;
  return (OPENSTACK_VERSIONS as readonly string[]).includes(requested) ? requested : null;
}

/** The dated EC2 version a requested one means, or null when unknown. */
export function ec2Version(requested: string): string | null {
  if (requested === LATEST) return EC2_VERSIONS[EC2_VERSIONS.length - 1]!;
  return (EC2_VERSIONS as readonly string[]).includes(requested) ? requested : null;
}

/** Whether (dated) OpenStack version `version` has what `required` introduced. */
export const osAtLeast = (version: string, required: string): boolean =>
  (OPENSTACK_VERSIONS as readonly string[]).indexOf(version) >= (OPENSTACK_VERSIONS as readonly string[]).indexOf(required);

/** Whether (dated) EC2 version `version` has what `required` introduced. */
export const ec2AtLeast = (version: string, required: string): boolean =>
  (EC2_VERSIONS as readonly string[]).indexOf(version) >= (EC2_VERSIONS as readonly string[]).indexOf(required);

/** The `/openstack` listing: versions dated no later than `now` (as Nova hides future ones), then `latest`. */
export function openstackListing(now: Date = new Date()): string[] {
  const today = now.toISOString().slice(0, 10);
  return [...OPENSTACK_VERSIONS.filter((v) => v <= today), LATEST];
}

/** The `/` listing. */
export const ec2Listing = (): string[] => [...EC2_VERSIONS, LATEST];
