/**
 * The API extensions this cloud advertises at /v2.0/extensions — only those it really
 * implements (tempest and the SDKs decide what to exercise from this list).
 */

export interface Extension { readonly alias: string; readonly name: string; readonly description: string }

const ext = (alias: string, name: string, description: string): Extension => ({ alias, name, description });

export const EXTENSIONS: readonly Extension[] = [
  ext('allowed-address-pairs', 'Allowed Address Pairs', 'Provides allowed address pairs'),
  ext('agent', 'agent', 'The agent management extension.'),
  ext('availability_zone', 'Availability Zone', 'The availability zone extension.'),
  ext('availability_zone_filter', 'Availability Zone Filter Extension', 'Add filter parameters to AvailabilityZone resource'),
  ext('binding', 'Port Binding', 'Expose port bindings of a virtual port to external application'),
  ext('default-subnetpools', 'Default Subnetpools', 'Provides ability to mark and use a subnetpool as the default.'),
  ext('dhcp_agent_scheduler', 'DHCP Agent Scheduler', 'Schedule networks among dhcp agents'),
  ext('dns-integration', 'DNS Integration', 'Provides integration with DNS.'),
  ext('dns-domain-ports', 'dns_domain for ports', 'Allows the DNS domain to be specified for a network port.'),
  ext('external-net', 'Neutron external network', 'Adds external network attribute to network resource.'),
  ext('ext-gw-mode', 'Neutron L3 Configurable external gateway mode', 'Extension of the router abstraction for specifying whether SNAT should occur on the external gateway'),
  ext('extraroute', 'Neutron Extra Route', 'Extra routes configuration for L3 router'),
  ext('extraroute-atomic', 'Atomically add/remove extra routes', 'Edit extra routes of a router on server side by atomically adding/removing extra routes'),
  ext('fip-port-details', 'Floating IP Port Details Extension', 'Add port_details attribute to Floating IP resource'),
  ext('extra_dhcp_opt', 'Neutron Extra DHCP options', 'Extra options configuration for DHCP.'),
  ext('ip-substring-filtering', 'IP address substring filtering', 'Provides IP address substring filtering when listing ports'),
  ext('net-mtu', 'Network MTU', 'Provides MTU attribute for a network resource.'),
  ext('net-mtu-writable', 'Network MTU (writable)', 'Provides a writable MTU attribute for a network resource.'),
  ext('network_availability_zone', 'Network Availability Zone', 'Availability zone support for network.'),
  ext('network-ip-availability', 'Network IP Availability', 'Provides IP availability data for each network and subnet.'),
  ext('pagination', 'Pagination support', 'Extension that indicates that pagination is enabled.'),
  ext('port-security', 'Port Security', 'Provides port security'),
  ext('project-id', 'project_id field enabled', 'Extension that indicates that project_id field is enabled.'),
  ext('provider', 'Provider Network', 'Expose mapping of virtual networks to physical networks'),
  ext('router', 'Neutron L3 Router', 'Router abstraction for basic L3 forwarding between L2 Neutron networks and access to external networks via a NAT gateway.'),
  ext('router_availability_zone', 'Router Availability Zone', 'Availability zone support for router.'),
  ext('quotas', 'Quota management support', 'Expose functions for quotas management per project'),
  ext('quota_details', 'Quota details management support', 'Expose functions for quotas usage statistics per project'),
  ext('quota-check-limit', 'Quota engine limit check', 'Support for checking the resource usage before applying a new quota limit'),
  ext('security-group', 'security-group', 'The security groups extension.'),
  ext('sorting', 'Sorting support', 'Extension that indicates that sorting is enabled.'),
  ext('subnet_allocation', 'Subnet Allocation', 'Enables allocation of subnets from a subnet pool'),
  ext('standard-attr-description', 'standard-attr-description', 'Extension to add descriptions to standard attributes'),
  ext('standard-attr-revisions', 'Resource revision numbers', 'This extension will display the revision number of neutron resources.'),
  ext('standard-attr-tag', 'Tag support for resources with standard attribute: subnet, trunk, network_segment_range, router, network, policy, subnetpool, port, security_group, floatingip', 'Enables to set tag on resources with standard attribute.'),
  ext('standard-attr-timestamp', 'Resource timestamps', 'Adds created_at and updated_at fields to all Neutron resources that have Neutron standard attributes.'),
  ext('filter-validation', 'Filter parameters validation', 'Provides validation on filter parameters.'),
  ext('fixed-ip-filter', 'IP address filtering', 'Provides IP address filtering when listing ports'),
];
