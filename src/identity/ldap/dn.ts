/** RFC 4515 escaping of a value inside an LDAP filter (as python-ldap's escape_filter_chars). */
export function escapeFilter(value: string): string {
  return value.replace(/[\\*()\0]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Wraps a bare filter in parentheses, as LDAP filter strings from configuration may lack them. */
export function wrapFilter(filter: string): string {
  const f = filter.trim();
  if (!f) return '';
  return f.startsWith('(') ? f : `(${f})`;
}

/** The first RDN of a DN as [attribute, value] (value unescaped), or undefined if unparsable. */
export function firstRdn(dn: string): [string, string] | undefined {
  const eq = dn.indexOf('=');
  if (eq <= 0) return undefined;
  const attr = dn.slice(0, eq).trim();
  const bytes: number[] = [];
  let i = eq + 1;
  while (i < dn.length && dn[i] === ' ') i++;
  for (; i < dn.length; i++) {
    const c = dn[i];
    if (c === ',' || c === '+' || c === ';') break;
    if (c === '\\' && i + 1 < dn.length) {
      const hex = dn.slice(i + 1, i + 3);
      if (/^[0-9a-fA-F]{2}$/.test(hex)) { bytes.push(parseInt(hex, 16)); i += 2; continue; }
      i++;
    }
    bytes.push(...Buffer.from(dn[i]));
  }
  return [attr, Buffer.from(bytes).toString('utf8').replace(/\s+$/, '')];
}

/**
 * A comparable form of a DN: attribute names and values lowercased, blanks around separators
 * dropped (most directory attributes match case-insensitively, as Keystone's is_dn_equal assumes).
 */
export function normalizeDn(dn: string): string {
  return dn.split(/(?<!\\),/).map((rdn) => rdn.split(/(?<!\\)=/).map((p) => p.trim()).join('=')).join(',').toLowerCase();
}
