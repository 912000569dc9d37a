/**
 * Reading operator policy files (`policy.yaml` / `policy.json`): a mapping
 * of rule name to rule, in either the text or the list-of-lists format.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { RuleSource } from './types.js';

/** Raised when a policy file cannot be read as a mapping of rules. */
export class PolicyFileError extends Error {
  constructor(readonly source: string, detail: string) {
    super(`invalid policy file ${source}: ${detail}`);
    this.name = 'PolicyFileError';
  }
}

function isListRule(value: unknown): boolean {
  return (
    Array.isArray(value) &&
    value.every((inner) => typeof inner === 'string' || (Array.isArray(inner) && inner.every((w) => typeof w === 'string')))
  );
}

/**
 * Parses policy file text. Like oslo it tries JSON first and falls back to
 * YAML; an empty document yields no rules.
 */
export function parsePolicyDocument(text: string, source = '<policy>'): Record<string, RuleSource> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    try {
      data = parseYaml(text);
    } catch (err) {
      throw new PolicyFileError(source, (err as Error).message);
    }
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) throw new PolicyFileError(source, 'top level is not a mapping');
  const rules: Record<string, RuleSource> = {};
  for (const [name, rule] of Object.entries(data as Record<string, unknown>)) {
    if (typeof rule === 'string' || isListRule(rule)) rules[name] = rule as RuleSource;
    else throw new PolicyFileError(source, `rule ${JSON.stringify(name)} is neither a string nor a list of lists`);
  }
  return rules;
}

/** Reads and parses a policy file synchronously (it is loaded at start-up). */
export function loadPolicyFile(path: string): Record<string, RuleSource> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new PolicyFileError(path, (err as Error).message);
  }
  return parsePolicyDocument(text, path);
}
