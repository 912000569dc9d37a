/**
 * `GET /os-migrations`: the migrations of instances that still exist, filtered as Nova filters
 * them (status, host — source or destination —, source_compute, node, instance_uuid,
 * migration_type, hidden, user_id, project_id). From 2.23 each shows its migration_type; from
 * 2.59 its uuid, newest first with limit/marker paging and changes-since (2.66: changes-before);
 * from 2.80 who asked for it. Hosts are shown to callers that `os-migrations:index:host` allows.
 */
import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { ComputeContext } from '../context.js';
import { badRequest } from '../faults.js';
import { atLeast, limitAndMarker, nextLinks, type ComputeRoutes } from '../api/http.js';
import { commonQueryParam, nonNegativeInteger, queryLists, singleParam, toBool, validateQuery, type Schema } from '../api/schema.js';
import type { MigrationRow, MigrationsDB } from './migrations-schema.js';

/** An ISO 8601 time as Nova's date-time format checker (oslo parse_isotime) takes it. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}(:?\d{2})?)?$/i;

function querySchema(req: FastifyRequest): Schema {
  const props: Record<string, Schema> = {
    hidden: commonQueryParam, host: commonQueryParam, instance_uuid: commonQueryParam, source_compute: commonQueryParam, status: commonQueryParam, migration_type: commonQueryParam,
  };
  if (!atLeast(req, '2.59')) return { type: 'object', properties: props, additionalProperties: true };
  Object.assign(props, { limit: singleParam(nonNegativeInteger), marker: singleParam({ type: 'string' }), 'changes-since': singleParam({ type: 'string' }) });
  if (atLeast(req, '2.66')) props['changes-before'] = singleParam({ type: 'string' });
  if (atLeast(req, '2.80')) Object.assign(props, { user_id: singleParam({ type: 'string' }), project_id: singleParam({ type: 'string' }) });
  return { type: 'object', properties: props, additionalProperties: false };
}

/** A date-time query value as stored times compare (naive UTC, microseconds), or Nova's 400. */
function storedTime(name: string, v: string): string {
  const ms = ISO_TIME.test(v) ? Date.parse(/[zZ]$|[+-]\d\d:?\d\d$/.test(v) ? v.replace(' ', 'T') : `${v.replace(' ', 'T')}Z`) : NaN;
  if (Number.isNaN(ms)) throw badRequest(`Invalid input for query parameters ${name}. Value: ${v}. '${v}' is not a 'date-time'`);
  return new Date(ms).toISOString().replace('Z', '000');
}

export function registerMigrations(routes: ComputeRoutes, ctx: ComputeContext): void {
  const db = ctx.db as unknown as Kysely<MigrationsDB>;

  routes.get('/os-migrations', async (req) => {
    const q = queryLists(req.query);
    validateQuery(querySchema(req), q);
    const caller = routes.caller(req);
    ctx.authorize(caller, 'os_compute_api:os-migrations:index');
    // Like Nova's search_opts (a dict of the query): the last value of a repeated parameter.
    const opt = (k: string): string | undefined => q[k]?.[q[k]!.length - 1];
    const projectFilter = opt('project_id');
    if (!projectFilter || projectFilter !== caller.projectId) ctx.authorize(caller, 'os_compute_api:os-migrations:index:all_projects');
    const showHosts = ctx.allows(caller, 'os_compute_api:os-migrations:index:host');

    let sql = db.selectFrom('compute_instance_migration as m').selectAll('m')
      .where(({ exists, selectFrom }) => exists(selectFrom('compute_instance as i').select('i.id').whereRef('i.uuid', '=', 'm.instance_uuid').where('i.deleted', '=', 0)));
    const status = opt('status');
    if (status !== undefined) sql = sql.where('m.status', '=', status);
    const host = opt('host');
    if (host !== undefined) sql = sql.where((eb) => eb.or([eb('m.source_compute', '=', host), eb('m.dest_compute', '=', host)]));
    else if (opt('source_compute') !== undefined) sql = sql.where('m.source_compute', '=', opt('source_compute')!);
    const node = opt('node');
    if (node !== undefined) sql = sql.where((eb) => eb.or([eb('m.source_node', '=', node), eb('m.dest_node', '=', node)]));
    for (const k of ['migration_type', 'instance_uuid', 'user_id', 'project_id', 'uuid'] as const) {
      const v = opt(k);
      if (v !== undefined) sql = sql.where(`m.${k}`, '=', v);
    }
    if (opt('hidden') !== undefined) sql = sql.where('m.hidden', '=', toBool(opt('hidden')) ? 1 : 0);

    const paged = atLeast(req, '2.59');
    let limit: number | undefined;
    if (paged) {
      const since = opt('changes-since') !== undefined ? storedTime('changes-since', opt('changes-since')!) : undefined;
      const before = atLeast(req, '2.66') && opt('changes-before') !== undefined ? storedTime('changes-before', opt('changes-before')!) : undefined;
      if (since !== undefined && before !== undefined && before < since) throw badRequest('The value of changes-since must be less than or equal to changes-before.');
      if (since !== undefined) sql = sql.where('m.updated_at', '>=', since);
      if (before !== undefined) sql = sql.where('m.updated_at', '<=', before);
      const page = limitAndMarker(req, ctx.maxLimit);
      limit = page.limit;
      if (page.marker !== undefined) {
        const m = await db.selectFrom('compute_instance_migration').select(['id', 'created_at']).where('uuid', '=', page.marker).executeTakeFirst();
        if (!m) throw badRequest(`Marker ${page.marker} could not be found.`);
        sql = sql.where((eb) => eb.or([eb('m.created_at', '<', m.created_at), eb.and([eb('m.created_at', '=', m.created_at), eb('m.id', '<', m.id)])]));
      }
      sql = sql.orderBy('m.created_at', 'desc').orderBy('m.id', 'desc');
      if (limit === 0) return { migrations: [] };
      sql = sql.limit(limit);
    } else {
      sql = sql.orderBy('m.id', 'asc');
    }
    const rows = (await sql.execute() as MigrationRow[]).filter((m) => Number(m.hidden) === 0);
    const migrations = rows.map((m) => migrationView(req, m, showHosts));
    const out: Record<string, unknown> = { migrations };
    if (paged) {
      const more = nextLinks(req, 'os-migrations', rows.length, rows[rows.length - 1]?.uuid, ctx.maxLimit);
      if (more.length) out.migrations_links = more;
    }
    return out;
  });
}

/** Nova's view of a migration at the request's microversion. */
function migrationView(req: FastifyRequest, m: MigrationRow, showHosts: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {
    created_at: m.created_at, dest_compute: showHosts ? m.dest_compute : null, dest_host: showHosts ? m.dest_host : null, dest_node: showHosts ? m.dest_node : null,
    id: Number(m.id), instance_uuid: m.instance_uuid,
    new_instance_type_id: m.new_instance_type_id === null ? null : Number(m.new_instance_type_id),
    old_instance_type_id: m.old_instance_type_id === null ? null : Number(m.old_instance_type_id),
    source_compute: showHosts ? m.source_compute : null, source_node: showHosts ? m.source_node : null, status: m.status, updated_at: m.updated_at,
  };
  if (atLeast(req, '2.23')) out.migration_type = m.migration_type;
  if (atLeast(req, '2.59')) out.uuid = m.uuid;
  if (atLeast(req, '2.80')) Object.assign(out, { user_id: m.user_id, project_id: m.project_id });
  return out;
}
