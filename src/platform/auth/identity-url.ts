/**
 * The identity service's base URL, without a trailing slash or `/v3`, so callers may pass either
 * `http://host:5000` or the catalog's `http://host:5000/v3`.
 */
export function identityBase(url: string): string {
  return url.replace(/\/+$/, '').replace(/\/v3$/, '');
}
