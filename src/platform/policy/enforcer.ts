/**
 * The policy enforcer: default rules, operator overrides, and the decision
 * for a named rule, as oslo.policy's `Enforcer` with `enforce_scope=False`
 * (scope types are not checked; rules that care test `system_scope` etc.).
 */
import type { PolicyCredentials, PolicyNode, PolicyTarget, RuleSource } from './types.js';
import { parseRule, PolicyParseError } from './parse.js';
import { evaluate, type ResolvedRule } from './evaluate.js';
import { loadPolicyFile } from './policy-file.js';

/** A documented default rule, as services declare them. */
export interface PolicyRuleDefault {
  readonly name: string;
  readonly check: RuleSource;
  readonly description?: string;
}

/** Default rules: a name → rule map or a list of documented defaults. */
export type PolicyDefaults = Readonly<Record<string, RuleSource>> | readonly PolicyRuleDefault[];

/** Options of an {@link Enforcer}. */
export interface EnforcerOptions {
  /** Rules replacing defaults of the same name (or adding rules). */
  readonly overrides?: Readonly<Record<string, RuleSource>>;
  /** A YAML or JSON policy file read at construction; it wins over `overrides`. */
  readonly policyFile?: string;
  /** Rule used for unknown names, including unknown `rule:` references (oslo's `default_rule`). Default `default`. */
  readonly defaultRule?: string;
}

/** Builds the error {@link Enforcer.authorize} throws on denial. */
export type DenialErrorFactory = (ruleName: string, target: PolicyTarget, creds: PolicyCredentials) => Error;

/** The error {@link Enforcer.authorize} throws when no factory is given. */
export class PolicyNotAuthorizedError extends Error {
  constructor(readonly rule: string) {
    super(`Policy doesn't allow ${rule} to be performed.`);
    this.name = 'PolicyNotAuthorizedError';
  }
}

interface CompiledRule {
  readonly source: RuleSource;
  readonly node: PolicyNode;
}

const DENY: PolicyNode = { kind: 'false' };

function defaultsToRecord(defaults: PolicyDefaults): Record<string, RuleSource> {
  if (!Array.isArray(defaults)) return { ...(defaults as Readonly<Record<string, RuleSource>>) };
  const record: Record<string, RuleSource> = {};
  for (const rule of defaults as readonly PolicyRuleDefault[]) {
    if (Object.prototype.hasOwnProperty.call(record, rule.name)) throw new Error(`duplicate default policy rule ${rule.name}`);
    record[rule.name] = rule.check;
  }
  return record;
}

/** Holds the effective rule set and answers authorization questions against it. */
export class Enforcer {
  private readonly defaults: Readonly<Record<string, RuleSource>>;
  private readonly defaultRule: string;
  private rules = new Map<string, CompiledRule>();
  private invalid = new Map<string, string>();

  constructor(defaults: PolicyDefaults, options: EnforcerOptions = {}) {
    this.defaults = defaultsToRecord(defaults);
    this.defaultRule = options.defaultRule ?? 'default';
    const overrides = { ...(options.overrides ?? {}) };
    if (options.policyFile !== undefined) Object.assign(overrides, loadPolicyFile(options.policyFile));
    this.setOverrides(overrides);
  }

  /** Replaces all overrides (e.g. after re-reading the policy file); defaults are kept. */
  setOverrides(overrides: Readonly<Record<string, RuleSource>>): void {
    const rules = new Map<string, CompiledRule>();
    const invalid = new Map<string, string>();
    for (const [name, source] of Object.entries({ ...this.defaults, ...overrides })) {
      let node: PolicyNode;
      try {
        node = parseRule(source);
      } catch (err) {
        if (!(err instanceof PolicyParseError)) throw err;
        // Fail closed like oslo: an unparsable rule denies.
        invalid.set(name, err.message);
        node = DENY;
      }
      rules.set(name, { source, node });
    }
    this.rules = rules;
    this.invalid = invalid;
  }

  /** Replaces all overrides with the contents of a YAML/JSON policy file. */
  loadPolicyFile(path: string): void {
    this.setOverrides(loadPolicyFile(path));
  }

  /** Rules that failed to parse (name → message); each of them denies. */
  get invalidRules(): ReadonlyMap<string, string> {
    return this.invalid;
  }

  /** Names of all effective rules. */
  ruleNames(): string[] {
    return [...this.rules.keys()];
  }

  /** The effective source of a rule (override or default), if defined. */
  ruleSource(name: string): RuleSource | undefined {
    return this.rules.get(name)?.source;
  }

  /** Whether `name` is defined (without falling back to the default rule). */
  hasRule(name: string): boolean {
    return this.rules.has(name);
  }

  /**
   * Decides rule `ruleName` for `creds` acting on `target`. An unknown name
   * uses the default rule if defined, else denies; `rule:` cycles deny.
   */
  enforce(ruleName: string, target: PolicyTarget, creds: PolicyCredentials): boolean {
    const resolved = this.resolve(ruleName);
    if (resolved === undefined) return false;
    return evaluate(resolved.node, target, withSystemAlias(creds), (name) => this.resolve(name), resolved.name);
  }

  /** Evaluates an ad-hoc rule (text or list form) with this enforcer's named rules available. */
  check(rule: RuleSource, target: PolicyTarget, creds: PolicyCredentials): boolean {
    let node: PolicyNode;
    try {
      node = parseRule(rule);
    } catch (err) {
      if (err instanceof PolicyParseError) return false;
      throw err;
    }
    return evaluate(node, target, withSystemAlias(creds), (name) => this.resolve(name));
  }

  /** Like {@link enforce} but throws `makeError(...)` (default {@link PolicyNotAuthorizedError}) on denial. */
  authorize(ruleName: string, target: PolicyTarget, creds: PolicyCredentials, makeError?: DenialErrorFactory): void {
    if (this.enforce(ruleName, target, creds)) return;
    throw makeError ? makeError(ruleName, target, creds) : new PolicyNotAuthorizedError(ruleName);
  }

  private resolve(name: string): ResolvedRule | undefined {
    const rule = this.rules.get(name);
    if (rule !== undefined) return { name, node: rule.node };
    const fallback = this.rules.get(this.defaultRule);
    return fallback === undefined ? undefined : { name: this.defaultRule, node: fallback.node };
  }
}

function withSystemAlias(creds: PolicyCredentials): PolicyCredentials {
  // oslo copies system_scope to `system` before checking.
  return creds.system_scope ? { ...creds, system: creds.system_scope } : creds;
}
