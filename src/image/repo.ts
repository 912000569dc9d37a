/**
 * Row-level access to images: one image with its properties and tags, batches of them for
 * lists, and the writes that keep properties and tags in step with an image.
 */
import type { Kysely, Transaction } from 'kysely';
import type { ImageDB, ImageRow } from './store/schema.js';
import { renderImage, type ImageView } from './view.js';
import { storedTime } from './list-query.js';

type Db = Kysely<ImageDB> | Transaction<ImageDB>;

/** Now, in the stored timestamp form. */
export const now = (): string => storedTime(new Date());

/** A stored image with its extra properties and tags. */
export interface LoadedImage {
  readonly row: ImageRow;
  readonly extra: Record<string, string>;
  readonly tags: string[];
}

/** Glance's image ids are at most 36 characters; longer ones cannot exist. */
const plausibleId = (id: string): boolean => id.length > 0 && id.length <= 36;

export async function findRow(db: Db, id: string): Promise<ImageRow | undefined> {
  if (!plausibleId(id)) return undefined;
  return db.selectFrom('image').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Extra properties and tags of several images at once. */
export async function loadDetails(db: Db, ids: readonly string[]): Promise<Map<string, { extra: Record<string, string>; tags: string[] }>> {
  const out = new Map<string, { extra: Record<string, string>; tags: string[] }>();
  for (const id of ids) out.set(id, { extra: {}, tags: [] });
  if (ids.length === 0) return out;
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    const props = await db.selectFrom('image_property').selectAll().where('image_id', 'in', chunk).execute();
    for (const p of props) out.get(p.image_id)!.extra[p.name] = p.value;
    const tags = await db.selectFrom('image_tag').selectAll().where('image_id', 'in', chunk).orderBy('value').execute();
    for (const t of tags) out.get(t.image_id)!.tags.push(t.value);
  }
  return out;
}

export async function loadImage(db: Db, id: string): Promise<LoadedImage | undefined> {
  const row = await findRow(db, id);
  if (!row) return undefined;
  const d = (await loadDetails(db, [id])).get(id)!;
  return { row, ...d };
}

export const viewOf = (img: LoadedImage): ImageView => renderImage(img.row, img.extra, img.tags);

/** Applies property changes: `set` upserts, `removed` deletes. */
export async function writeProperties(db: Db, imageId: string, set: Readonly<Record<string, string>>, removed: readonly string[] = []): Promise<void> {
  if (removed.length > 0) await db.deleteFrom('image_property').where('image_id', '=', imageId).where('name', 'in', [...removed]).execute();
  const names = Object.keys(set);
  if (names.length === 0) return;
  await db.deleteFrom('image_property').where('image_id', '=', imageId).where('name', 'in', names).execute();
  await db.insertInto('image_property').values(names.map((name) => ({ image_id: imageId, name, value: set[name]! }))).execute();
}

/** Replaces the image's tags with `tags`. */
export async function writeTags(db: Db, imageId: string, tags: readonly string[]): Promise<void> {
  await db.deleteFrom('image_tag').where('image_id', '=', imageId).execute();
  if (tags.length > 0) await db.insertInto('image_tag').values(tags.map((value) => ({ image_id: imageId, value }))).execute();
}

/**
 * Moves an image from one status to another only if it is still in `from` (compare-and-set), with
 * other column changes; false when someone else changed the status first (or the image is gone).
 */
export async function transition(db: Db, id: string, from: string | readonly string[], changes: Partial<ImageRow>): Promise<boolean> {
  const froms = typeof from === 'string' ? [from] : [...from];
  const r = await db.updateTable('image').set({ ...changes, updated_at: now() })
    .where('id', '=', id).where('status', 'in', froms).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}
