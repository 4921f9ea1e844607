// Keyset paging for trip lists: an index on (owner, sortKey) and an opaque `before` cursor; never skip/offset.
import { z } from 'zod';
import { ValidationError } from './http/validate';

/** Sorts newest first by time, ties broken by id; ISO-8601 UTC strings sort as text. */
export function sortKey(at: string, id: string): string {
  return `${at}|${id}`;
}

export function encodeCursor(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): string {
  const key = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^\d{4}-\d{2}-\d{2}T[^|]+\|.+$/.test(key)) {
    throw new ValidationError([{ location: 'query', path: 'before', message: 'not a cursor returned as `next`' }]);
  }
  return key;
}

export const tripPageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  before: z.string().min(1).max(512).optional(),
});

/** Given up to `limit + 1` rows (newest first), returns the page and the cursor of the next one if there is more. */
export function toPage<T>(rows: T[], limit: number, keyOf: (row: T) => string): { items: T[]; next?: string } {
  if (rows.length <= limit) return { items: rows };
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return last === undefined ? { items } : { items, next: encodeCursor(keyOf(last)) };
}
