/**
 * Attribute validators and converters in the manner of neutron-lib's `validators` and
 * `converters`: each takes the raw JSON value and the attribute name, returns the converted value
 * or throws a 400 naming the attribute and the reason.
 */
import { isIP } from 'node:net';
import { badAttr } from '../faults.js';

export type Check<T = unknown> = (value: unknown, attr: string) => T;

const describe = (v: unknown): string => (typeof v === 'string' ? `'${v}'` : JSON.stringify(v));

export const string = (max = 255): Check<string> => (v, attr) => {
  if (typeof v !== 'string') throw badAttr(attr, `${describe(v)} is not a valid string`);
  if (v.length > max) throw badAttr(attr, `${describe(v)} exceeds maximum length of ${max}`);
  return v;
};

/** A string or null (Neutron's `type:string_or_none`). */
export const stringOrNone = (max = 255): Check<string | null> => (v, attr) => (v === null ? null : string(max)(v, attr));

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
export const isUuid = (v: unknown): v is string => typeof v === 'string' && UUID.test(v);
export const uuid: Check<string> = (v, attr) => {
  if (!isUuid(v)) throw badAttr(attr, `${describe(v)} is not a valid UUID`);
  return v;
};
export const uuidOrNone: Check<string | null> = (v, attr) => (v === null ? null : uuid(v, attr));

/** Neutron's convert_to_boolean: booleans, 'true'/'false' in any case, 0/1. */
export const toBoolean = (v: unknown): boolean | undefined => {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    const s = v.toLowerCase();
    if (s === 'true' || s === '1') return true;
    if (s === 'false' || s === '0') return false;
  }
  if (v === 0 || v === 1) return v === 1;
  return undefined;
};
export const boolean: Check<boolean> = (v, attr) => {
  const b = toBoolean(v);
  if (b === undefined) throw badAttr(attr, `${describe(v)} cannot be converted to boolean`);
  return b;
};

/** An integer (number or numeric string) within [min, max]. */
export const integer = (min = -Infinity, max = Infinity): Check<number> => (v, attr) => {
  const n = typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw badAttr(attr, `${describe(v)} is not an integer`);
  if (n < min) throw badAttr(attr, `${describe(v)} is too small - must be at least '${min}'`);
  if (n > max) throw badAttr(attr, `${describe(v)} is too large - must be no larger than '${max}'`);
  return n;
};
export const integerOrNone = (min?: number, max?: number): Check<number | null> => (v, attr) => (v === null ? null : integer(min, max)(v, attr));

const MAC = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i;
export const macAddress: Check<string> = (v, attr) => {
  if (typeof v !== 'string' || !MAC.test(v)) throw badAttr(attr, `'${String(v)}' is not a valid MAC address`);
  const mac = v.toLowerCase();
  if (mac === '00:00:00:00:00:00' || mac === 'ff:ff:ff:ff:ff:ff' || (parseInt(mac.slice(0, 2), 16) & 1) === 1) {
    throw badAttr(attr, `'${v}' is not a valid MAC address`);
  }
  return mac;
};

export const ipAddress: Check<string> = (v, attr) => {
  if (typeof v !== 'string' || isIP(v) === 0) throw badAttr(attr, `'${String(v)}' is not a valid IP address`);
  return v;
};
export const ipAddressOrNone: Check<string | null> = (v, attr) => (v === null ? null : ipAddress(v, attr));

/** One of the given strings. */
export const oneOf = <T extends string>(values: readonly T[]): Check<T> => (v, attr) => {
  if (typeof v !== 'string' || !values.includes(v as T)) throw badAttr(attr, `${describe(v)} is not in ${JSON.stringify(values)}`);
  return v as T;
};
export const oneOfOrNone = <T extends string>(values: readonly T[]): Check<T | null> => (v, attr) => (v === null ? null : oneOf(values)(v, attr));

/** A list whose every item passes `item`. */
export const listOf = <T>(item: Check<T>, opts: { unique?: boolean } = {}): Check<T[]> => (v, attr) => {
  if (!Array.isArray(v)) throw badAttr(attr, `${describe(v)} is not a list`);
  const out = v.map((x) => item(x, attr));
  if (opts.unique && new Set(out.map((x) => JSON.stringify(x))).size !== out.length) throw badAttr(attr, `Duplicate items in the list: '${v.join(', ')}'`);
  return out;
};

/** A JSON object (dict). */
export const dict: Check<Record<string, unknown>> = (v, attr) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw badAttr(attr, `${describe(v)} is not a dictionary`);
  return v as Record<string, unknown>;
};

/** Passes anything (Neutron's `type:any` / no validation); the resource's own code checks it. */
export const any: Check<unknown> = (v) => v;
