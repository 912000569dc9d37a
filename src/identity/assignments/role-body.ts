import { badRequest } from '../../platform/http/faults.js';
import { invalid, name as nameField, str } from '../api/validate.js';
import type { RoleInput } from './role-store.js';

const KNOWN = ['name', 'domain_id', 'description', 'options', 'id', 'links'];
const OPTIONS = ['immutable'];

/**
 * Validates a role body as Keystone's role_create / role_update schemas do: name (1..255, not
 * blank; required on create), description (string), options ({immutable: bool|null} only) and
 * any extra attributes, whose keys Keystone normalises (':' and '-' become '_').
 */
export function parseRoleBody(raw: unknown, create: boolean): RoleInput {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw invalid('role', `${JSON.stringify(raw ?? null)} is not of type 'object'`);
  const o = raw as Record<string, unknown>;
  const keys = Object.keys(o);
  if (!create && keys.length === 0) throw badRequest('{} does not have enough properties');
  const input: RoleInput = { extra: {}, keys };
  const n = nameField(o, 'name', create);
  if (n !== undefined) input.name = n;
  const d = str(o, 'description');
  if (d !== undefined && d !== null) input.description = d;
  if (o.domain_id !== undefined) {
    if (o.domain_id !== null && typeof o.domain_id !== 'string') throw invalid('domain_id', `${JSON.stringify(o.domain_id)} is not of type 'string'`);
    input.domain_id = o.domain_id === '' ? null : (o.domain_id as string | null);
  }
  if (o.options !== undefined) {
    const opts = o.options;
    if (!opts || typeof opts !== 'object' || Array.isArray(opts)) throw invalid('options', `${JSON.stringify(opts)} is not of type 'object'`);
    const parsed: Record<string, boolean | null> = {};
    for (const [k, v] of Object.entries(opts)) {
      if (!OPTIONS.includes(k)) throw invalid('options', `Additional properties are not allowed ('${k}' was unexpected)`);
      if (v !== null && typeof v !== 'boolean') throw invalid(`options/${k}`, `${JSON.stringify(v)} is not of type 'boolean', 'null'`);
      parsed[k] = v as boolean | null;
    }
    input.options = parsed;
  }
  if (o.id !== undefined) input.id = o.id;
  for (const [k, v] of Object.entries(o)) if (!KNOWN.includes(k)) input.extra[k.replace(/[:-]/g, '_')] = v;
  return input;
}
