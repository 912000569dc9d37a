/** Nova's action bodies (`POST …/action` with `{"<action>": {...}}`) and a few shared helpers. */
import type { FastifyRequest } from 'fastify';
import { badRequest } from '../faults.js';

/**
 * The name of the action a body asks for (Nova's `action_peek`): exactly one top-level key,
 * one of `known`; anything else is Nova's 400.
 */
export function actionOf(body: unknown, known: readonly string[]): string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('Malformed request body');
  const keys = Object.keys(body);
  if (keys.length !== 1) throw badRequest('Malformed request body');
  if (!known.includes(keys[0])) throw badRequest(`There is no such action: ${keys[0]}`);
  return keys[0];
}

/** The last value of a query parameter (webob's `req.params.get`). */
export function queryValue(req: FastifyRequest, key: string): string | undefined {
  const v = (req.query as Record<string, string | string[] | undefined>)[key];
  return Array.isArray(v) ? v[v.length - 1] : v;
}

/** The first value of a query parameter (`req.GET.getall(key)[0]`). */
export function firstQueryValue(req: FastifyRequest, key: string): string | undefined {
  const v = (req.query as Record<string, string | string[] | undefined>)[key];
  return Array.isArray(v) ? v[0] : v;
}

/** Nova's `utils.validate_integer` for path ids: an integer or a 400 with Nova's wording. */
export function integerId(value: string, name = 'id'): number {
  if (!/^\s*[+-]?\d+\s*$/.test(value)) throw badRequest(`Invalid input received: ${name} must be an integer`);
  const n = Number(value);
  if (n < -2147483648 || n > 2147483647) throw badRequest(`Invalid input received: ${name} must be <= 2147483647`);
  return n;
}

/** Whether a string looks like a UUID (oslo's `is_uuid_like`: 32 hex digits, dashes optional). */
export const isUuidLike = (s: string): boolean => /^[0-9a-f]{32}$/i.test(s.replace(/-/g, '')) && /^[0-9a-f-]+$/i.test(s) && (s.length === 32 || s.length === 36);

/** oslo's `strutils.bool_from_string(strict=True)`; undefined for anything else. */
export function strictBool(v: string): boolean | undefined {
  const s = v.trim().toLowerCase();
  if (['1', 't', 'true', 'on', 'y', 'yes'].includes(s)) return true;
  if (['0', 'f', 'false', 'off', 'n', 'no'].includes(s)) return false;
  return undefined;
}
