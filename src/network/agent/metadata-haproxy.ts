/**
 * The haproxy config answering 169.254.169.254:80 inside a DHCP namespace (as Neutron's
 * metadata driver writes it): requests go to the agent's metadata proxy socket with the network id,
 * the client's TCP source address and the network's proxy token set by haproxy itself, replacing
 * whatever a client sent in those headers. haproxy binds as root, then runs as nobody.
 */
import { METADATA_IP } from '../host/dnsmasq-config.js';
import { NETWORK_ID_HEADER, PROXY_TOKEN_HEADER, metadataProxyToken } from './metadata-proxy.js';

const ID_RE = /^[A-Za-z0-9-]{1,64}$/;
const PATH_RE = /^\/[A-Za-z0-9_.\-/]+$/;

/** Renders the config of network `networkId`'s metadata haproxy. */
export function metadataHaproxyConfig(o: {
  readonly networkId: string;
  readonly pidFile: string;
  readonly socketPath: string;
  readonly proxyKey: string;
}): string {
  // These are spliced into haproxy's language: keep them to plain ids and paths.
  if (!ID_RE.test(o.networkId)) throw new Error(`invalid network id: ${JSON.stringify(o.networkId)}`);
  for (const p of [o.pidFile, o.socketPath]) if (!PATH_RE.test(p)) throw new Error(`invalid path for haproxy: ${JSON.stringify(p)}`);
  return [
    `# metadata proxy of network ${o.networkId}, written by the Nephos network agent (a change restarts it).`,
    'global',
    '    daemon',
    `    pidfile ${o.pidFile}`,
    '    user nobody',
    '    group nogroup',
    '    maxconn 1024',
    '',
    'defaults',
    '    mode http',
    '    option http-server-close',
    '    retries 3',
    '    timeout http-request 30s',
    '    timeout connect 30s',
    '    timeout client 32s',
    '    timeout server 32s',
    '    timeout http-keep-alive 30s',
    '',
    'listen metadata',
    `    bind ${METADATA_IP}:80`,
    '    http-request del-header X-Neutron-Router-ID',
    `    http-request set-header ${NETWORK_ID_HEADER} ${o.networkId}`,
    '    http-request set-header X-Forwarded-For %[src]',
    `    http-request set-header ${PROXY_TOKEN_HEADER} ${metadataProxyToken(o.proxyKey, o.networkId)}`,
    `    server metadata ${o.socketPath}`,
    '',
  ].join('\n');
}
