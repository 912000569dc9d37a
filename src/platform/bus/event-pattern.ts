/**
 * Notification event-type patterns: exact, or `*` for any run of characters (dots
 * included), so `identity.*` matches `identity.user.created` and `*` matches all.
 */

/** True when `eventType` matches `pattern`. */
export function matchesEventType(pattern: string, eventType: string): boolean {
  if (!pattern.includes('*')) return pattern === eventType;
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`, 's').test(eventType);
}

/**
 * An AMQP topic-exchange binding key that selects at least every event type the pattern
 * matches (each word holding a `*` becomes `#`); the exact match is done on receipt.
 */
export function bindingKeyFor(pattern: string): string {
  return pattern
    .split('.')
    .map((word) => (word.includes('*') ? '#' : word))
    .join('.');
}
