/**
 * Evaluation of a parsed rule against a target and credentials, following
 * oslo.policy's check semantics (see each case below).
 */
import type { PolicyCredentials, PolicyNode, PolicyTarget } from './types.js';
import { pythonStr } from './python-text.js';
import { substituteTarget } from './substitute.js';

/** A rule reached through `rule:name`, with the name actually used (it may be the default rule). */
export interface ResolvedRule {
  readonly name: string;
  readonly node: PolicyNode;
}

/** Looks up the rule behind `rule:name`; `undefined` makes the reference false. */
export type RuleResolver = (name: string) => ResolvedRule | undefined;

/** Raised inside evaluation when `rule:` references loop; callers turn it into a denial. */
export class PolicyCycleError extends Error {
  constructor(readonly chain: readonly string[]) {
    super(`policy rule cycle: ${chain.join(' -> ')}`);
    this.name = 'PolicyCycleError';
  }
}

function credentialMatches(holder: unknown, segments: readonly string[], match: string): boolean {
  if (segments.length === 0) return holder !== undefined && match === pythonStr(holder);
  if (typeof holder !== 'object' || holder === null || Array.isArray(holder)) return false;
  const record = holder as Record<string, unknown>;
  // Like oslo each dot descends one level, but a flat key holding dots is accepted too.
  for (let take = 1; take <= segments.length; take++) {
    const key = segments.slice(0, take).join('.');
    if (!Object.prototype.hasOwnProperty.call(record, key)) continue;
    const value = record[key];
    const rest = segments.slice(take);
    if (Array.isArray(value)) {
      // A list matches if any element does, wherever it sits in the path.
      if (value.some((item) => credentialMatches(item, rest, match))) return true;
    } else if (credentialMatches(value, rest, match)) {
      return true;
    }
  }
  return false;
}

function roleMatches(creds: PolicyCredentials, role: string): boolean {
  const roles = creds.roles;
  if (!Array.isArray(roles)) return false;
  const wanted = role.toLowerCase();
  return roles.some((r) => typeof r === 'string' && r.toLowerCase() === wanted);
}

function check(
  node: PolicyNode,
  target: PolicyTarget,
  creds: PolicyCredentials,
  resolveRule: RuleResolver,
  active: string[],
): boolean {
  switch (node.kind) {
    case 'true':
      return true;
    case 'false':
      return false;
    case 'not':
      return !check(node.operand, target, creds, resolveRule, active);
    case 'and':
      return node.operands.every((op) => check(op, target, creds, resolveRule, active));
    case 'or':
      return node.operands.some((op) => check(op, target, creds, resolveRule, active));
    case 'rule': {
      const resolved = resolveRule(node.name);
      if (resolved === undefined) return false;
      if (active.includes(resolved.name)) throw new PolicyCycleError([...active, resolved.name]);
      active.push(resolved.name);
      try {
        return check(resolved.node, target, creds, resolveRule, active);
      } finally {
        active.pop();
      }
    }
    case 'role': {
      const role = substituteTarget(node.match, target);
      return role !== undefined && roleMatches(creds, role);
    }
    case 'generic': {
      const match = substituteTarget(node.match, target);
      if (match === undefined) return false;
      if (node.left.type === 'literal') return match === node.left.text;
      return credentialMatches(creds, node.left.path.split('.'), match);
    }
  }
}

/**
 * Evaluates `node`. `ruleName`, when given, is the rule being enforced and
 * counts as already entered for cycle detection. A `rule:` cycle denies the
 * whole evaluation (returns `false`) rather than looping.
 */
export function evaluate(
  node: PolicyNode,
  target: PolicyTarget,
  creds: PolicyCredentials,
  resolveRule: RuleResolver = () => undefined,
  ruleName?: string,
): boolean {
  try {
    return check(node, target, creds, resolveRule, ruleName === undefined ? [] : [ruleName]);
  } catch (err) {
    if (err instanceof PolicyCycleError) return false;
    throw err;
  }
}
