import type { FastifyReply, FastifyRequest } from 'fastify';
import { Fault } from '../../platform/http/faults.js';
import { authOf } from '../../platform/auth/index.js';
import type { Caller, ImageContext } from '../context.js';

/** The caller of an authenticated request. */
export const callerOf = (ctx: ImageContext, req: FastifyRequest): Caller => ctx.callerOf(authOf(req));

/** scheme://host as the client addressed the API. */
export function baseUrl(req: FastifyRequest): string {
  const host = req.headers['x-forwarded-host'] ?? req.headers.host ?? 'localhost';
  const proto = req.headers['x-forwarded-proto'] ?? 'http';
  return `${String(proto)}://${String(host)}`;
}

/** The raw query string of a request, parsed with repeated keys kept. */
export const queryOf = (req: FastifyRequest): URLSearchParams => new URLSearchParams(req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '');

/** A path parameter. */
export const param = (req: FastifyRequest, name: string): string => (req.params as Record<string, string>)[name] ?? '';

/** 204 without a body. */
export const noContent = (reply: FastifyReply) => reply.status(204).send();

/** Glance's 405 for a known path asked with another method. */
export const methodNotAllowed = (allow: string): Fault =>
  new Fault(405, 'The method specified is not allowed for this resource.', { Allow: allow });

/** The content type of a request without parameters, lowercased. */
export function mediaType(req: FastifyRequest): string | undefined {
  const ct = req.headers['content-type'];
  return ct === undefined ? undefined : String(ct).split(';')[0]!.trim().toLowerCase();
}
