/**
 * Parser for oslo.policy's rule language (and its legacy list-of-lists
 * format) into a {@link PolicyNode} tree.
 *
 * Tokenising follows oslo exactly: the text is split on whitespace, then
 * leading `(` and trailing `)` are peeled off each word, so parentheses
 * inside a check (`%(project_id)s`) survive. `and`/`or`/`not` are
 * case-insensitive. Precedence is `not` > `and` > `or`.
 */
import type { GenericLeft, ListRule, PolicyNode, RuleSource } from './types.js';
import { pythonLiteralText } from './python-text.js';

/** Raised for text that does not form a rule (oslo logs and denies instead). */
export class PolicyParseError extends Error {
  constructor(readonly rule: string, detail: string) {
    super(`cannot parse policy rule ${JSON.stringify(rule)}: ${detail}`);
    this.name = 'PolicyParseError';
  }
}

type Token =
  | { readonly type: '(' | ')' | 'and' | 'or' | 'not' }
  | { readonly type: 'string'; readonly text: string }
  | { readonly type: 'check'; readonly node: PolicyNode };

const TRUE: PolicyNode = { kind: 'true' };
const FALSE: PolicyNode = { kind: 'false' };

/** Parses one check word such as `role:admin` or `project_id:%(project_id)s`. */
export function parseCheck(word: string): PolicyNode {
  if (word === '!') return FALSE;
  if (word === '@') return TRUE;
  const colon = word.indexOf(':');
  // oslo fails closed on a word without a colon rather than rejecting the rule.
  if (colon < 0) return FALSE;
  const kind = word.slice(0, colon);
  const match = word.slice(colon + 1);
  if (kind === 'rule') return { kind: 'rule', name: match };
  if (kind === 'role') return { kind: 'role', match };
  const literal = pythonLiteralText(kind);
  const left: GenericLeft = literal === undefined ? { type: 'path', path: kind } : { type: 'literal', text: literal };
  return { kind: 'generic', left, match };
}

function* tokenize(rule: string): Generator<Token> {
  for (const word of rule.split(/\s+/)) {
    if (word === '') continue;
    const afterOpen = word.replace(/^\(+/, '');
    for (let i = 0; i < word.length - afterOpen.length; i++) yield { type: '(' };
    if (afterOpen === '') continue;
    const clean = afterOpen.replace(/\)+$/, '');
    const closing = afterOpen.length - clean.length;
    const lowered = clean.toLowerCase();
    if (lowered === 'and' || lowered === 'or' || lowered === 'not') {
      yield { type: lowered };
    } else if (clean !== '') {
      // Like oslo, the quote test looks at the word before trailing ')' are removed.
      const first = afterOpen[0];
      const last = afterOpen[afterOpen.length - 1];
      if (afterOpen.length >= 2 && (first === '"' || first === "'") && first === last) {
        yield { type: 'string', text: afterOpen.slice(1, -1) };
      } else {
        yield { type: 'check', node: parseCheck(clean) };
      }
    }
    for (let i = 0; i < closing; i++) yield { type: ')' };
  }
}

class TextParser {
  private pos = 0;

  constructor(private readonly rule: string, private readonly tokens: readonly Token[]) {}

  parse(): PolicyNode {
    const node = this.parseOr();
    if (this.pos !== this.tokens.length) this.fail(`unexpected ${this.describe(this.tokens[this.pos])}`);
    return node;
  }

  private parseOr(): PolicyNode {
    const operands = [this.parseAnd()];
    while (this.peek() === 'or') {
      this.pos++;
      operands.push(this.parseAnd());
    }
    return operands.length === 1 ? operands[0] : { kind: 'or', operands };
  }

  private parseAnd(): PolicyNode {
    const operands = [this.parseUnary()];
    while (this.peek() === 'and') {
      this.pos++;
      operands.push(this.parseUnary());
    }
    return operands.length === 1 ? operands[0] : { kind: 'and', operands };
  }

  private parseUnary(): PolicyNode {
    if (this.peek() === 'not') {
      this.pos++;
      return { kind: 'not', operand: this.parseUnary() };
    }
    return this.parsePrimary();
  }

  private parsePrimary(): PolicyNode {
    const token = this.tokens[this.pos];
    if (token === undefined) return this.fail('unexpected end of rule');
    if (token.type === 'check') {
      this.pos++;
      return token.node;
    }
    if (token.type === '(') {
      this.pos++;
      const inner = this.parseOr();
      if (this.peek() !== ')') this.fail('missing )');
      this.pos++;
      return inner;
    }
    return this.fail(`unexpected ${this.describe(token)}`);
  }

  private peek(): Token['type'] | undefined {
    return this.tokens[this.pos]?.type;
  }

  private describe(token: Token | undefined): string {
    if (token === undefined) return 'end of rule';
    return token.type === 'string' ? `quoted string '${token.text}'` : `'${token.type}'`;
  }

  private fail(detail: string): never {
    throw new PolicyParseError(this.rule, detail);
  }
}

/** Parses a rule written in the policy language. An empty rule always allows. */
export function parseTextRule(rule: string): PolicyNode {
  const tokens = [...tokenize(rule)];
  if (tokens.length === 0) return TRUE;
  return new TextParser(rule, tokens).parse();
}

/**
 * Parses the legacy list-of-lists format: `[]` allows, an outer list whose
 * inner lists are all empty denies.
 */
export function parseListRule(rule: ListRule): PolicyNode {
  if (rule.length === 0) return TRUE;
  const alternatives: PolicyNode[] = [];
  for (const inner of rule) {
    const words = typeof inner === 'string' ? [inner] : inner;
    if (words.length === 0) continue;
    const checks = words.map((word) => {
      if (typeof word !== 'string') throw new PolicyParseError(JSON.stringify(rule), 'list rules hold strings only');
      return parseCheck(word);
    });
    alternatives.push(checks.length === 1 ? checks[0] : { kind: 'and', operands: checks });
  }
  if (alternatives.length === 0) return FALSE;
  return alternatives.length === 1 ? alternatives[0] : { kind: 'or', operands: alternatives };
}

/** Parses either rule format; throws {@link PolicyParseError} on malformed input. */
export function parseRule(rule: RuleSource): PolicyNode {
  if (typeof rule === 'string') return parseTextRule(rule);
  if (Array.isArray(rule)) return parseListRule(rule);
  throw new PolicyParseError(String(rule), 'a rule is a string or a list of lists');
}
