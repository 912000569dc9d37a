/**
 * Nephos policy engine: oslo.policy-compatible rule parsing, evaluation and
 * enforcement.
 */
export type { GenericLeft, ListRule, PolicyCredentials, PolicyNode, PolicyTarget, RuleSource } from './types.js';
export { PolicyParseError, parseCheck, parseListRule, parseRule, parseTextRule } from './parse.js';
export { PolicyCycleError, evaluate, type ResolvedRule, type RuleResolver } from './evaluate.js';
export { lookupKey, substituteTarget } from './substitute.js';
export { pythonLiteralText, pythonStr } from './python-text.js';
export { PolicyFileError, loadPolicyFile, parsePolicyDocument } from './policy-file.js';
export {
  Enforcer,
  PolicyNotAuthorizedError,
  type DenialErrorFactory,
  type EnforcerOptions,
  type PolicyDefaults,
  type PolicyRuleDefault,
} from './enforcer.js';
