/**
 * Placement's microversions: 1.0 up to 1.39 (Yoga's maximum), negotiated from
 * `OpenStack-API-Version: placement X.Y`. Handlers ask `want(req, 28)` for "1.28 or later".
 */
import type { FastifyRequest } from 'fastify';
import type { Microversion } from '../platform/http/microversion.js';

export const MIN_VERSION: Microversion = { major: 1, minor: 0 };
export const MAX_VERSION: Microversion = { major: 1, minor: 39 };
export const versionString = (v: Microversion): string => `${v.major}.${v.minor}`;

declare module 'fastify' {
  interface FastifyRequest {
    /** The negotiated placement microversion's minor number (major is always 1); unset when negotiation failed. */
    placementMinor?: number;
  }
}

/** Whether the request's microversion is 1.`minor` or later. */
export const want = (req: FastifyRequest, minor: number): boolean => (req.placementMinor ?? 0) >= minor;
