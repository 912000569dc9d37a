/**
 * Regular expressions written by API callers (Nova's `?name=` and `?ip=` filters): compiled for
 * V8's linear-time engine, so no pattern can make a match backtrack for minutes and block the
 * process (ReDoS: `(a+)+$` against a long name). That engine leaves out what needs backtracking
 * (backreferences, lookaround, large counted repeats) and the `i`/`u` flags: such patterns are
 * refused with the reason rather than run on the backtracking engine.
 */
import { setFlagsFromString } from 'node:v8';

// Only gates the `l` flag at compile time; regular expressions without it are unaffected.
setFlagsFromString('--enable-experimental-regexp-engine');
/** V8's flag for its linear-time engine (unknown to the linter's list of flags). */
const LINEAR = 'l';

/** The caller's pattern as a linear-time RegExp, or a message saying why it cannot be one. */
export function userRegExp(pattern: string): RegExp | { readonly error: string } {
  try {
    return new RegExp(pattern, LINEAR);
  } catch (e) {
    const why = /linear time/.test((e as Error).message)
      ? 'only patterns that match in linear time are supported (no backreferences, lookaround or large counted repeats)'
      : 'not a valid regular expression';
    return { error: why };
  }
}
