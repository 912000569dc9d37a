/**
 * Per-project image quotas with Glance's unified-limit names (image_count_total,
 * image_size_total, image_stage_total, image_count_uploading), their usage as Glance counts it,
 * and the 413 Glance answers (oslo.limit's "over limit" text inside Glance's LimitExceeded).
 */
import { sql, type Kysely } from 'kysely';
import { tooLarge } from '../platform/http/faults.js';
import type { Config } from '../platform/config/config.js';
import type { ImageDB } from './store/schema.js';

export const QUOTA_NAMES = ['image_size_total', 'image_stage_total', 'image_count_total', 'image_count_uploading'] as const;
export type QuotaName = (typeof QUOTA_NAMES)[number];

const UPLOADING = ['saving', 'uploading', 'importing'];

/** The configured limit (-1: unlimited). */
export const limitOf = (cfg: Config, name: QuotaName): number => Number(cfg.image[name]);

/** Current usage of one quota by a project, counted as Glance does. */
export async function usageOf(db: Kysely<ImageDB>, owner: string, name: QuotaName): Promise<number> {
  const mine = db.selectFrom('image').where('owner', '=', owner);
  switch (name) {
    case 'image_count_total': {
      const r = await mine.select(sql<number>`count(*)`.as('n')).where('status', 'not in', ['killed', 'deleted']).executeTakeFirst();
      return Number(r?.n ?? 0);
    }
    case 'image_size_total': {
      const r = await mine.select(sql<number>`coalesce(sum(size), 0)`.as('n'))
        .where('status', 'not in', ['killed', 'deleted']).where('location', 'is not', null).where('size', '>', 0).executeTakeFirst();
      return Number(r?.n ?? 0);
    }
    case 'image_stage_total': {
      const r = await mine.select(sql<number>`coalesce(sum(size), 0)`.as('n'))
        .where('status', 'in', ['uploading', 'importing']).where('size', '>', 0).executeTakeFirst();
      return Number(r?.n ?? 0);
    }
    case 'image_count_uploading': {
      const r = await mine.select(sql<number>`count(*)`.as('n')).where('status', 'in', UPLOADING).executeTakeFirst();
      return Number(r?.n ?? 0);
    }
  }
}

/** Glance's 413 text for an exceeded unified limit. */
export function overLimit(project: string, name: QuotaName, limit: number, usage: number, delta: number) {
  const detail = `Project ${project} is over a limit for [Resource ${name} is over limit of ${limit} due to current usage ${usage} and delta ${delta}]`;
  return tooLarge('The request returned a 413 Request Entity Too Large. This generally means that rate limiting or a quota '
    + `threshold was breached.\n\nThe response body:\n${detail}`);
}

/**
 * 413 when `usage + delta` of a quota would exceed its limit (oslo.limit's rule). Returns the room
 * left (bytes or count) after the check, or undefined when unlimited.
 */
export async function enforceQuota(db: Kysely<ImageDB>, cfg: Config, owner: string | null, name: QuotaName, delta = 0): Promise<number | undefined> {
  const limit = limitOf(cfg, name);
  if (limit < 0 || owner === null) return undefined;
  const usage = await usageOf(db, owner, name);
  if (usage + delta > limit) throw overLimit(owner, name, limit, usage, delta);
  return limit - usage;
}

/** `GET /v2/info/usage`: every quota with its limit and the project's usage. */
export async function usageReport(db: Kysely<ImageDB>, cfg: Config, owner: string | null): Promise<Record<QuotaName, { limit: number; usage: number }>> {
  const out = {} as Record<QuotaName, { limit: number; usage: number }>;
  for (const name of QUOTA_NAMES) {
    out[name] = { limit: limitOf(cfg, name), usage: owner === null ? 0 : await usageOf(db, owner, name) };
  }
  return out;
}
