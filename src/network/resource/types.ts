/**
 * A Neutron resource as data: its attribute map (neutron-lib's RESOURCE_ATTRIBUTE_MAP in spirit)
 * and where it is stored. The generic machinery (body checks, list queries, rendering) works
 * from this; each domain module adds the behaviour that is its own.
 */
import type { Fault } from '../../platform/http/faults.js';
import type { Check } from './validate.js';

/** One attribute of a resource. */
export interface AttrSpec {
  /** May be given on create (allow_post). */
  readonly post?: boolean;
  /** May be changed by update (allow_put). */
  readonly put?: boolean;
  /** Must be given on create. */
  readonly required?: boolean;
  /** Value when absent on create (a function for fresh objects/arrays). */
  readonly default?: unknown;
  /** Validates and converts a given value. */
  readonly check?: Check;
  /** Who sees the attribute: everyone (default), admins only, or nobody (internal). */
  readonly visible?: 'all' | 'admin' | 'none';
  /** Setting it (on create or update) needs the admin role. */
  readonly adminWrite?: boolean;
  /** Usable as a list filter (default: when visible). */
  readonly filter?: boolean;
}

/** A resource kind: names, storage, attributes. */
export interface ResourceDef {
  /** Singular body key: `network`. */
  readonly member: string;
  /** Plural body key and URL segment: `networks`. */
  readonly collection: string;
  /** Table holding rows `{id, project_id, name, body, …columns}`. */
  readonly table: string;
  /** Body attributes mirrored into indexed columns (for SQL equality filters), by attribute name → column. */
  readonly columns: Readonly<Record<string, string>>;
  readonly attributes: Readonly<Record<string, AttrSpec>>;
  /** The 404 for a missing (or invisible) object. */
  readonly notFound: (id: string) => Fault;
  /** Attributes whose list filters may be pushed into SQL (string-valued mirrored columns). */
  readonly sqlFilters?: readonly string[];
}

/** A stored object: the API representation (all attributes, including internal ones). */
export type Obj = Record<string, unknown> & { readonly id: string };
