/**
 * Resolves a request path to a document the way Nova's metadata service does: the path is
 * normalised (`//`, `.`, `..` and a trailing `/` make no difference), `/openstack…` is the
 * OpenStack tree, anything else the EC2 tree (`/ec2/…` too), and every unknown version, name or
 * child is "not found".
 */
import { posix } from 'node:path';
import type { DocumentOptions } from './document-options.js';
import { userDataBytes } from './document-options.js';
import { ec2Tree, findInTree, printNode } from './ec2.js';
import type { InstanceMetadata } from './model.js';
import {
  META_DATA, NETWORK_DATA, PASSWORD, USER_DATA, VENDOR_DATA, VENDOR_DATA2, metaData, networkData, vendorData, vendorData2, versionListing,
} from './openstack.js';
import { GRIZZLY, HAVANA, LIBERTY, NEWTON_TWO, ec2Listing, ec2Version, openstackListing, openstackVersion, osAtLeast } from './versions.js';

export const TEXT = 'text/plain; charset=utf-8';
export const JSON_TYPE = 'application/json';

/** A document found at a path. */
export interface Found {
  readonly body: Buffer;
  readonly contentType: string;
}

const text = (s: string | Buffer): Found => ({ body: Buffer.isBuffer(s) ? s : Buffer.from(s, 'utf8'), contentType: TEXT });
const json = (v: unknown): Found => ({ body: Buffer.from(JSON.stringify(v), 'utf8'), contentType: JSON_TYPE });

/** The path's tokens after normalisation, `/` being `[]`. */
export function pathTokens(path: string): string[] {
  const norm = posix.normalize(`/${path}`);
  return norm.split('/').filter((t) => t !== '');
}

/** Whether `path` is the root, which lists the EC2 versions to anyone (as Nova). */
export const isRoot = (path: string): boolean => pathTokens(path).length === 0;

/** The root listing. */
export const rootListing = (): Found => text(ec2Listing().join('\n'));

/**
 * The document at `path` (already percent-decoded, without the query) for this instance, or null
 * when there is none. `now` dates the `/openstack` listing.
 */
export function lookupDocument(md: InstanceMetadata, path: string, o: DocumentOptions = {}, now: Date = new Date()): Found | null {
  const tokens = pathTokens(path);
  if (tokens.length === 0) return rootListing();
  if (tokens[0] === 'openstack') return lookupOpenstack(md, tokens.slice(1), o, now);
  return lookupEc2(md, tokens[0] === 'ec2' ? tokens.slice(1) : tokens, o);
}

function lookupOpenstack(md: InstanceMetadata, tokens: readonly string[], o: DocumentOptions, now: Date): Found | null {
  if (tokens.length === 0) return text(openstackListing(now).join('\n'));
  const version = openstackVersion(tokens[0]!);
  if (version === null) return null;
  if (tokens.length === 1) return text(versionListing(md, version).join('\n'));
  switch (tokens.slice(1).join('/')) {
    case META_DATA: return json(metaData(md, version, o));
    case USER_DATA: {
      const ud = userDataBytes(md);
      return ud === null ? null : text(ud);
    }
    case PASSWORD: return osAtLeast(version, GRIZZLY) ? text(md.password ?? '') : null;
    case VENDOR_DATA: return osAtLeast(version, HAVANA) ? json(vendorData(md)) : null;
    case VENDOR_DATA2: return osAtLeast(version, NEWTON_TWO) ? json(vendorData2(md)) : null;
    case NETWORK_DATA: return osAtLeast(version, LIBERTY) ? json(networkData(md)) : null;
    default: return null;
  }
}

function lookupEc2(md: InstanceMetadata, tokens: readonly string[], o: DocumentOptions): Found | null {
  if (tokens.length === 0) return text(ec2Listing().join('\n'));
  const version = ec2Version(tokens[0]!);
  if (version === null) return null;
  const node = findInTree(ec2Tree(md, version, o), tokens.slice(1));
  return node === undefined ? null : text(printNode(node));
}
