import type { FastifyInstance } from 'fastify';
import type { Identity } from '../identity.js';

/** Routes of this part of the identity API (to be written). */
export function register(_app: FastifyInstance, _id: Identity): void {}
