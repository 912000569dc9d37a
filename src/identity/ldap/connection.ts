import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Client, InvalidCredentialsError } from 'ldapts';
import type { LdapSettings } from './settings.js';

/** How long to wait for a TCP connection, and for any one LDAP operation. */
const CONNECT_TIMEOUT_MS = 5000;
const OPERATION_TIMEOUT_MS = 10_000;

/** The directory could not be reached, or refused the service account: an operator's problem. */
export class DirectoryUnavailable extends Error {}

function tlsOptions(s: LdapSettings): ConnectionOptions {
  const o: ConnectionOptions = { rejectUnauthorized: s.tlsRequireCert };
  if (s.tlsCaCertFile) o.ca = readFileSync(s.tlsCaCertFile);
  return o;
}

/**
 * Opens a connection to the first reachable server, upgrades it with StartTLS when `use_tls`
 * is on, and binds as `dn` (anonymously when dn or password is empty). The caller must unbind.
 */
async function open(s: LdapSettings, dn: string, password: string): Promise<Client> {
  let last: unknown;
  for (const url of s.urls) {
    const tls = tlsOptions(s);
    // ldapts speaks TLS from the start whenever tlsOptions are given: only for ldaps:// URLs.
    const client = new Client({
      url, connectTimeout: CONNECT_TIMEOUT_MS, timeout: OPERATION_TIMEOUT_MS, strictDN: false,
      ...(url.startsWith('ldaps:') ? { tlsOptions: tls } : {}),
    });
    try {
      if (s.useTls) {
        if (url.startsWith('ldaps:')) throw new DirectoryUnavailable('use_tls cannot be combined with an ldaps:// URL');
        await client.startTLS(tls);
      }
      await client.bind(dn, password);
      return client;
    } catch (e) {
      await client.unbind().catch(() => undefined);
      if (e instanceof InvalidCredentialsError || e instanceof DirectoryUnavailable) throw e;
      last = e;
    }
  }
  throw new DirectoryUnavailable(`Unable to establish a connection to LDAP Server (${s.urls.join(',')}): ${String(last)}`);
}

/** Runs `fn` on a short-lived connection bound as the service account; always unbinds. */
export async function withServiceConnection<T>(s: LdapSettings, fn: (client: Client) => Promise<T>): Promise<T> {
  let client: Client;
  try {
    client = s.bindDn && s.bindPassword ? await open(s, s.bindDn, s.bindPassword) : await open(s, '', '');
  } catch (e) {
    if (e instanceof InvalidCredentialsError) throw new DirectoryUnavailable('Unable to authenticate against Identity backend - Invalid username or password');
    throw e;
  }
  try {
    return await fn(client);
  } finally {
    await client.unbind().catch(() => undefined);
  }
}

/**
 * Checks a user's password by a simple bind as their DN on a fresh connection, then unbinds.
 * An empty password is refused outright: LDAP treats it as an anonymous bind, which succeeds.
 * Resolves false for wrong credentials; throws DirectoryUnavailable when no server answers.
 */
export async function bindAs(s: LdapSettings, dn: string, password: string): Promise<boolean> {
  if (!dn || !password) return false;
  let client: Client;
  try {
    client = await open(s, dn, password);
  } catch (e) {
    if (e instanceof InvalidCredentialsError) return false;
    throw e;
  }
  await client.unbind().catch(() => undefined);
  return true;
}
