/** The instance metadata service and config drive: what the rest of compute imports. */
export type {
  InstanceMetadata, MetadataKeyPair, MetadataPort, MetadataFixedIp, MetadataSubnet, MetadataDevice, MetadataBus,
  MetadataBlockDevice, MetadataEc2Ids, MetadataFile,
} from './model.js';
export { DEFAULT_DHCP_DOMAIN, type DocumentOptions } from './document-options.js';
export { createMetadataServer, metadataHandler, type MetadataServer, type MetadataServerOptions, type InstanceLookup } from './server.js';
export { buildConfigDrive, configDriveFiles, CONFIG_DRIVE_LABEL, type ConfigDriveOptions, type ConfigDriveFile } from './config-drive.js';
export { lookupDocument } from './lookup.js';
export { ec2Id } from './ec2.js';
