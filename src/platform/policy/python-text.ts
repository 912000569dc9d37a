/**
 * Python text conventions that oslo.policy's comparisons depend on: checks
 * compare `str(value)`, so `true` must read `True`, `null` must read `None`,
 * and the literal left side of `True:%(user.enabled)s` is evaluated first.
 */

const FLOAT = /^[+-]?(?:(?:\d+\.\d*|\.\d+)(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+)$/;
const INT = /^[+-]?(?:0|[1-9]\d*)$/;

/** Python's `repr(float)`: shortest round-trip digits, exponent outside [1e-4, 1e16). */
export function pythonFloatText(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  const sign = value < 0 || Object.is(value, -0) ? '-' : '';
  const [mantissa, expText] = Math.abs(value).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const exp = Number(expText);
  if (exp >= -4 && exp < 16) {
    if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
    const whole = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
    const fraction = digits.slice(exp + 1);
    return `${sign}${whole}.${fraction === '' ? '0' : fraction}`;
  }
  const expSign = exp < 0 ? '-' : '+';
  const expDigits = String(Math.abs(exp)).padStart(2, '0');
  const shown = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  return `${sign}${shown}e${expSign}${expDigits}`;
}

function pythonStringRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = '';
  for (const ch of text) {
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else out += ch;
  }
  return `${quote}${out}${quote}`;
}

function pythonRepr(value: unknown): string {
  return typeof value === 'string' ? pythonStringRepr(value) : pythonStr(value);
}

/** Renders a JSON-like value the way Python's `str()` renders its equivalent. */
export function pythonStr(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') {
    // JSON cannot tell 1 from 1.0; integers are taken to be Python ints.
    return Number.isInteger(value) ? BigInt(value).toString() : pythonFloatText(value);
  }
  if (Array.isArray(value)) return `[${value.map(pythonRepr).join(', ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    return `{${entries.map(([k, v]) => `${pythonStringRepr(k)}: ${pythonRepr(v)}`).join(', ')}}`;
  }
  return String(value);
}

/** False when an unescaped `quote` (or a dangling backslash) ends the literal early. */
function isSingleLiteralBody(body: string, quote: string): boolean {
  for (let i = 0; i < body.length; i++) {
    if (body[i] === '\\') {
      if (i === body.length - 1) return false;
      i++;
    } else if (body[i] === quote) {
      return false;
    }
  }
  return true;
}

function unquote(body: string): string {
  return body.replace(/\\(.)/g, (_m, ch: string) => {
    if (ch === 'n') return '\n';
    if (ch === 't') return '\t';
    if (ch === 'r') return '\r';
    return ch;
  });
}

/**
 * If `text` is a Python literal (`True`, `False`, `None`, an int, a float or
 * a quoted string), returns `str()` of its value; otherwise `undefined`,
 * meaning the text names a credential path.
 */
export function pythonLiteralText(text: string): string | undefined {
  if (text === 'True' || text === 'False' || text === 'None') return text;
  if (INT.test(text)) return BigInt(text.replace(/^\+/, '')).toString();
  if (FLOAT.test(text)) return pythonFloatText(Number(text));
  const quote = text[0];
  if (text.length >= 2 && (quote === "'" || quote === '"') && text[text.length - 1] === quote) {
    const body = text.slice(1, -1);
    if (isSingleLiteralBody(body, quote)) return unquote(body);
  }
  return undefined;
}
