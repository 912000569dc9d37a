/**
 * The value operators of flavor extra specs that filters match against host or aggregate
 * values (Nova's extra_specs_ops): `= N` (a number at least N), `== N`, `!= N`, `>= N`, `<= N`
 * (numbers), `s== v`, `s!= v`, `s< v`, `s<= v`, `s> v`, `s>= v` (strings), `<in> v` (substring),
 * `<all-in> a b` (every word contained), `<or> a <or> b` (one of the words). A requirement with
 * no known operator must equal the value exactly.
 */

type Op = (value: string, operand: string) => boolean;

const num = (f: (a: number, b: number) => boolean): Op => (v, o) => {
  const a = Number(v); const b = Number(o);
  return !Number.isNaN(a) && !Number.isNaN(b) && v.trim() !== '' && f(a, b);
};

const OPS: Readonly<Record<string, Op>> = {
  '=': num((a, b) => a >= b),
  '==': num((a, b) => a === b),
  '!=': num((a, b) => a !== b),
  '>=': num((a, b) => a >= b),
  '<=': num((a, b) => a <= b),
  's==': (v, o) => v === o,
  's!=': (v, o) => v !== o,
  's<': (v, o) => v < o,
  's<=': (v, o) => v <= o,
  's>': (v, o) => v > o,
  's>=': (v, o) => v >= o,
  '<in>': (v, o) => v.includes(o),
};

/** Whether `value` (a host's or aggregate's) satisfies the requirement `req`. */
export function matchExtraSpec(value: string | null | undefined, req: string): boolean {
  const words = req.split(/\s+/).filter(Boolean);
  const op = words[0];
  if (op === undefined || (op !== '<or>' && op !== '<all-in>' && !(op in OPS))) return value === req;
  if (value === null || value === undefined) return false;
  const operands = words.slice(1);
  if (op === '<or>') {
    // "<or> a <or> b <or> c": every other word is an alternative.
    return operands.filter((_, i) => i % 2 === 0).some((w) => w === value);
  }
  if (!operands.length) return false;
  if (op === '<all-in>') return operands.every((w) => value.includes(w));
  return OPS[op]!(value, operands[0]!);
}
