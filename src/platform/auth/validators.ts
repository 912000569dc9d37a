import type { TokenCacheOptions } from './cache.js';
import { CachedTokenValidator } from './cache.js';
import { InProcessTokenValidator, type InProcessValidatorOptions, type TokenContextSource } from './in-process.js';
import { RemoteTokenValidator, type RemoteValidatorOptions } from './remote.js';

/** The all-in-one's validator: the identity service's token service, behind a short cache. */
export function inProcessValidator(source: TokenContextSource, opts: InProcessValidatorOptions & { cache?: TokenCacheOptions } = {}): CachedTokenValidator {
  return new CachedTokenValidator(new InProcessTokenValidator(source, opts), opts.cache);
}

/** A separate service's validator: identity over HTTP, behind a short cache. */
export function remoteValidator(opts: RemoteValidatorOptions & { cache?: TokenCacheOptions }): CachedTokenValidator {
  return new CachedTokenValidator(new RemoteTokenValidator(opts), { now: opts.now, ...opts.cache });
}
