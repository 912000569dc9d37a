/**
 * `os-instance_usage_audit_log` (admin): the state of Nova's periodic instance usage audit for the
 * last completed monthly period before a time. This cloud runs no such audit (Nova's
 * `instance_usage_audit` defaults to off too), so every compute host is reported as not run, with
 * no instances and no errors — the answer Nova gives for hosts that never audited.
 */
import type { ComputeContext } from '../context.js';
import { badRequest } from '../faults.js';
import { params, type ComputeRoutes } from '../api/http.js';
import { listServices } from '../services.js';

const RULE = 'os_compute_api:os-instance-usage-audit-log:list';

/** The month before the one holding `before` (Nova's default `instance_usage_audit_period`). */
export function lastCompletedMonth(before: Date): { begin: Date; end: Date } {
  const end = new Date(Date.UTC(before.getUTCFullYear(), before.getUTCMonth(), 1));
  return { begin: new Date(Date.UTC(end.getUTCFullYear(), end.getUTCMonth() - 1, 1)), end };
}

const stamp = (d: Date): string => d.toISOString().replace('T', ' ').slice(0, 19);

/** `YYYY-MM-DD HH:MM:SS[.ffffff]` as Nova parses it; anything else is a 400. */
function parseBefore(raw: string): Date {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d+)?$/.exec(raw);
  const d = m ? new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`) : null;
  if (!d || Number.isNaN(d.getTime())) throw badRequest('Invalid timestamp for date ' + raw);
  return d;
}

async function auditLog(ctx: ComputeContext, before: Date): Promise<Record<string, unknown>> {
  const { begin, end } = lastCompletedMonth(before);
  const hosts = [...new Set((await listServices(ctx, { binary: 'nova-compute' })).map((s) => s.host))].sort();
  return {
    hosts_not_run: hosts, log: {}, num_hosts: hosts.length, num_hosts_done: 0, num_hosts_not_run: hosts.length, num_hosts_running: 0,
    overall_status: `0 of ${hosts.length} hosts done. 0 errors.`, period_beginning: stamp(begin), period_ending: stamp(end), total_errors: 0, total_instances: 0,
  };
}

export function registerUsageAuditLog(routes: ComputeRoutes, ctx: ComputeContext): void {
  routes.get('/os-instance_usage_audit_log', async (req) => {
    ctx.authorize(routes.caller(req), RULE, {});
    return { instance_usage_audit_logs: await auditLog(ctx, new Date()) };
  });
  routes.get('/os-instance_usage_audit_log/:before', async (req) => {
    ctx.authorize(routes.caller(req), RULE, {});
    return { instance_usage_audit_log: await auditLog(ctx, parseBefore(params<{ before: string }>(req).before)) };
  });
}
