/** What the document builders need besides the instance: deployment settings and the request. */
import type { InstanceMetadata } from './model.js';

export interface DocumentOptions {
  /**
   * Domain appended to the instance's hostname (Nova's `[api] dhcp_domain`, default `novalocal`);
   * null or empty shows the bare hostname.
   */
  readonly dhcpDomain?: string | null;
  /** The requesting address (X-Forwarded-For): EC2 `local-ipv4` when the instance has no IPv4 fixed IP. */
  readonly address?: string | null;
}

/** Nova's default `dhcp_domain`. */
export const DEFAULT_DHCP_DOMAIN = 'novalocal';

/** The hostname the documents show: `<hostname>.<dhcpDomain>`, or the bare hostname without a domain. */
export function shownHostname(md: InstanceMetadata, o: DocumentOptions): string {
  const domain = o.dhcpDomain === undefined ? DEFAULT_DHCP_DOMAIN : o.dhcpDomain;
  return domain ? `${md.hostname}.${domain}` : md.hostname;
}

/** The user data as bytes, or null when the instance has none. */
export function userDataBytes(md: InstanceMetadata): Buffer | null {
  return md.userData === null ? null : Buffer.from(md.userData, 'base64');
}
