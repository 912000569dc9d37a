/**
 * Shared types of the policy engine: the parsed rule tree, the legacy
 * list-of-lists rule format, and the credential/target shapes a check sees.
 */

/**
 * A parsed rule. Mirrors oslo.policy's check classes: `@`/empty is `true`,
 * `!` (and any token without a colon) is `false`, `rule:x` is `rule`,
 * `role:x` is `role`, everything else is `generic`.
 */
export type PolicyNode =
  | { readonly kind: 'true' }
  | { readonly kind: 'false' }
  | { readonly kind: 'not'; readonly operand: PolicyNode }
  | { readonly kind: 'and'; readonly operands: readonly PolicyNode[] }
  | { readonly kind: 'or'; readonly operands: readonly PolicyNode[] }
  | { readonly kind: 'rule'; readonly name: string }
  | { readonly kind: 'role'; readonly match: string }
  | { readonly kind: 'generic'; readonly left: GenericLeft; readonly match: string };

/**
 * Left side of a `field:value` check: either a dotted path into the
 * credentials (`token.project.domain.id`) or a Python-style literal
 * (`True`, `None`, `'Member'`, `1`) already rendered the way Python's
 * `str()` would render it, which is what oslo compares against.
 */
export type GenericLeft =
  | { readonly type: 'path'; readonly path: string }
  | { readonly type: 'literal'; readonly text: string };

/**
 * The legacy rule format: the outer list is OR-ed, each inner list is
 * AND-ed; a bare string inside the outer list is a one-check inner list.
 * `[]` means always allow.
 */
export type ListRule = ReadonlyArray<string | readonly string[]>;

/** A rule as written in a defaults table or a policy file. */
export type RuleSource = string | ListRule;

/**
 * What a check knows about the caller. This is the shape oslo.context's
 * `to_policy_values()` produces, plus what Keystone adds:
 *
 * - `user_id`, `user_domain_id`: the authenticated user.
 * - `project_id`, `project_domain_id`: set for project-scoped tokens.
 * - `domain_id`: set for domain-scoped tokens; Keystone passes `null`
 *   (Python `None`) otherwise, and `null` compares equal to the text `None`.
 * - `system_scope`: `'all'` for system-scoped tokens, else absent/`null`.
 *   The enforcer also exposes it as `system`, as oslo does.
 * - `roles`: role *names*; `role:X` compares them case-insensitively.
 * - `is_admin_project`: whether the token's project is the admin project.
 * - `is_admin`: the legacy admin-token flag (`is_admin:1` never matches a
 *   boolean, `is_admin:True` does).
 * - `token`: optionally the rendered token body (`{ user: {...},
 *   project: { id, domain: { id } }, domain: {...}, ... }`) so that checks
 *   such as `token.project.domain.id:%(target.domain.id)s` can walk it.
 *
 * A check on a key that is absent (or `undefined`) is false; any extra keys
 * can be checked with `field:value`.
 */
export interface PolicyCredentials {
  readonly user_id?: string | null;
  readonly user_domain_id?: string | null;
  readonly project_id?: string | null;
  readonly project_domain_id?: string | null;
  readonly domain_id?: string | null;
  readonly system_scope?: 'all' | null;
  readonly roles?: readonly string[];
  readonly is_admin_project?: boolean;
  readonly is_admin?: boolean;
  readonly token?: Readonly<Record<string, unknown>>;
  readonly [key: string]: unknown;
}

/**
 * The object being acted on. `%(a.b.c)s` looks up the flat key `a.b.c`
 * first (Keystone flattens its targets) and otherwise walks nested objects.
 */
export type PolicyTarget = Readonly<Record<string, unknown>>;
