/**
 * The JSON schema documents of the metadata-definition API (`/v2/schemas/metadefs/…`). Their
 * structure (names, types, enums, lengths, required lists, collection wrappers) follows Glance
 * (Zed) so that clients reading them see what the API enforces: request bodies are validated
 * against these very documents (`json-schema.ts`). Descriptions are our own wording.
 */

/** A JSON schema fragment (plain data, served as is). */
export type SchemaDoc = { readonly [key: string]: unknown };

const TYPES = ['array', 'boolean', 'integer', 'number', 'object', 'string', null];
const NAME_MAX = 80;

const dateTime = (what: string): SchemaDoc => ({ type: 'string', readOnly: true, description: what, format: 'date-time' });
const readOnlyString: SchemaDoc = { type: 'string', readOnly: true };

/** Attributes of one property definition (a JSON-schema-like description of a metadata key). */
function propertyAttributes(): Record<string, SchemaDoc> {
  return {
    name: { type: 'string', maxLength: NAME_MAX },
    title: { type: 'string' },
    description: { type: 'string' },
    operators: { type: 'array', items: { type: 'string' } },
    type: { type: 'string', enum: TYPES },
    required: { $ref: '#/definitions/stringArray' },
    minimum: { type: 'number' },
    maximum: { type: 'number' },
    maxLength: { $ref: '#/definitions/positiveInteger' },
    minLength: { $ref: '#/definitions/positiveIntegerDefault0' },
    pattern: { type: 'string', format: 'regex' },
    enum: { type: 'array' },
    readonly: { type: 'boolean' },
    default: {},
    items: {
      type: 'object',
      properties: { type: { type: 'string', enum: TYPES }, enum: { type: 'array' } },
    },
    maxItems: { $ref: '#/definitions/positiveInteger' },
    minItems: { $ref: '#/definitions/positiveIntegerDefault0' },
    uniqueItems: { type: 'boolean', default: false },
    additionalItems: { type: 'boolean' },
  };
}

/** Shared definitions; `stringArray` needs at least one item only in the property documents. */
function definitions(opts: { withProperty: boolean; stringArrayMinItems: boolean }): Record<string, SchemaDoc> {
  const defs: Record<string, SchemaDoc> = {
    positiveInteger: { type: 'integer', minimum: 0 },
    positiveIntegerDefault0: { allOf: [{ $ref: '#/definitions/positiveInteger' }, { default: 0 }] },
    stringArray: {
      type: 'array', items: { type: 'string' }, uniqueItems: true,
      ...(opts.stringArrayMinItems ? { minItems: 1 } : {}),
    },
  };
  if (opts.withProperty) {
    defs.property = {
      type: 'object',
      additionalProperties: { type: 'object', required: ['title', 'type'], properties: propertyAttributes() },
    };
  }
  return defs;
}

/** A single-entity document, as Glance's `Schema.raw()`. */
function entity(name: string, properties: Record<string, SchemaDoc>, required: string[], defs?: Record<string, SchemaDoc>): SchemaDoc {
  return {
    name,
    properties,
    additionalProperties: false,
    ...(defs ? { definitions: defs } : {}),
    ...(required.length ? { required } : {}),
  };
}

/** Splits the definitions off an entity (they move to the collection's top level). */
function withoutDefinitions(doc: SchemaDoc): { item: SchemaDoc; defs?: unknown } {
  const { definitions: defs, ...item } = doc as { definitions?: unknown };
  return { item, defs };
}

const collectionLinks = [
  { rel: 'first', href: '{first}' },
  { rel: 'next', href: '{next}' },
  { rel: 'describedby', href: '{schema}' },
];

/** A list document wrapping `item` in an array (or, for `dict`, an object keyed by name). */
function collection(name: string, itemDoc: SchemaDoc, dict = false): SchemaDoc {
  const { item, defs } = withoutDefinitions(itemDoc);
  const members = dict ? { type: 'object', additionalProperties: item } : { type: 'array', items: item };
  return {
    name,
    properties: { [name]: members, first: { type: 'string' }, next: { type: 'string' }, schema: { type: 'string' } },
    links: collectionLinks,
    ...(defs ? { definitions: defs } : {}),
  };
}

export function namespaceSchema(): SchemaDoc {
  return entity('namespace', {
    namespace: { type: 'string', description: 'Name of the namespace, unique in the cloud.', maxLength: NAME_MAX },
    display_name: { type: 'string', description: 'A friendlier name for user interfaces.', maxLength: NAME_MAX },
    description: { type: 'string', description: 'What the namespace is about.', maxLength: 500 },
    visibility: { type: 'string', description: 'Who can see the namespace.', enum: ['public', 'private'] },
    protected: { type: 'boolean', description: 'When true the namespace and its contents cannot be deleted.' },
    owner: { type: 'string', description: 'Project owning the namespace.', maxLength: 255 },
    created_at: dateTime('When the namespace was created'),
    updated_at: dateTime('When the namespace was last changed'),
    schema: readOnlyString,
    self: readOnlyString,
    resource_type_associations: {
      type: 'array',
      items: {
        type: 'object',
        properties: { name: { type: 'string' }, prefix: { type: 'string' }, properties_target: { type: 'string' } },
      },
    },
    properties: { $ref: '#/definitions/property' },
    objects: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          description: { type: 'string' },
          required: { $ref: '#/definitions/stringArray' },
          properties: { $ref: '#/definitions/property' },
        },
      },
    },
    tags: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' } } } },
  }, ['namespace'], definitions({ withProperty: true, stringArrayMinItems: false }));
}

export function objectSchema(): SchemaDoc {
  return entity('object', {
    name: { type: 'string', maxLength: NAME_MAX },
    description: { type: 'string' },
    required: { $ref: '#/definitions/stringArray' },
    properties: { $ref: '#/definitions/property' },
    schema: readOnlyString,
    self: readOnlyString,
    created_at: dateTime('When the object was created'),
    updated_at: dateTime('When the object was last changed'),
  }, ['name'], definitions({ withProperty: true, stringArrayMinItems: false }));
}

/** The property document; inside an object or a namespace the name is the key, hence optional there. */
export function propertySchema(requireName = true): SchemaDoc {
  return entity('property', propertyAttributes(), requireName ? ['type', 'title', 'name'] : ['type', 'title'],
    definitions({ withProperty: false, stringArrayMinItems: true }));
}

export function tagSchema(): SchemaDoc {
  return entity('tag', {
    name: { type: 'string', maxLength: NAME_MAX },
    created_at: dateTime('When the tag was created'),
    updated_at: dateTime('When the tag was last changed'),
  }, ['name']);
}

/** The body of `POST …/tags` (several tags at once). */
export function tagListBodySchema(): SchemaDoc {
  return entity('tags', {
    tags: {
      type: 'array',
      items: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'], additionalProperties: false },
    },
  }, []);
}

export function resourceTypeAssociationSchema(): SchemaDoc {
  return entity('resource_type_association', {
    name: {
      type: 'string', maxLength: NAME_MAX,
      description: 'Resource type, preferably named as in Heat (e.g. OS::Glance::Image, OS::Nova::Flavor).',
    },
    prefix: {
      type: 'string', maxLength: NAME_MAX,
      description: 'Prefix (including its separator, e.g. "hw_" or "hw:") put before the namespace\'s property names when they are applied to this resource type.',
    },
    properties_target: {
      type: 'string', maxLength: NAME_MAX,
      description: 'Which set of key/value pairs of the resource the properties apply to, when it has several (e.g. "image" for a volume\'s image metadata).',
    },
    created_at: dateTime('When the association was created'),
    updated_at: dateTime('When the association was last changed'),
  }, ['name']);
}

/** The documents served under /v2/schemas/metadefs/{name}. */
export const metadefSchemaDocuments: Readonly<Record<string, () => SchemaDoc>> = {
  namespace: namespaceSchema,
  namespaces: () => collection('namespaces', namespaceSchema()),
  object: objectSchema,
  objects: () => collection('objects', objectSchema()),
  property: () => propertySchema(true),
  properties: () => collection('properties', propertySchema(false), true),
  tag: tagSchema,
  tags: () => collection('tags', tagSchema()),
  resource_type: resourceTypeAssociationSchema,
  resource_types: () => collection('resource_type_associations', resourceTypeAssociationSchema()),
};
