/**
 * Keystone's project tag filters on GET /v3/projects: `tags` (all of), `tags-any` (any of),
 * `not-tags` (not all of) and `not-tags-any` (none of); values are comma-separated.
 */
export const TAG_FILTERS = ['tags', 'tags-any', 'not-tags', 'not-tags-any'] as const;

/** Whether a project with `tags` passes every tag filter present in `query`. */
export function matchesTagFilters(tags: readonly string[], query: Record<string, string>): boolean {
  const have = new Set(tags);
  const list = (k: string) => query[k].split(',');
  if ('tags' in query && !list('tags').every((t) => have.has(t))) return false;
  if ('tags-any' in query && !list('tags-any').some((t) => have.has(t))) return false;
  if ('not-tags' in query && list('not-tags').every((t) => have.has(t))) return false;
  if ('not-tags-any' in query && list('not-tags-any').some((t) => have.has(t))) return false;
  return true;
}

/** True when the query carries any tag filter. */
export const hasTagFilters = (query: Record<string, string>): boolean => TAG_FILTERS.some((k) => k in query);
