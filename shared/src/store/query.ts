// The in-memory store's helpers: filters (sift), sorts, deep copies, distances and retries.
import sift from 'sift';
import { EARTH_RADIUS_2DSPHERE_KM, haversineKm } from '../geo';
import type { Filter, FindOptions, Sort } from './port';

export type Doc = Record<string, unknown>;

/** Deep copy of a JSON-like value (Dates kept as Dates); `undefined` fields are dropped, as MongoDB would not store them. */
export function cloneDoc<T>(value: T): T {
  return cloneValue(value) as T;
}

function cloneValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return new Date(value.getTime());
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : cloneValue(v)));
  const out: Doc = {};
  for (const [k, v] of Object.entries(value as Doc)) if (v !== undefined) out[k] = cloneValue(v);
  return out;
}

/** The value at a dotted path, or `undefined` when any step is missing. */
export function getPath(doc: unknown, path: string): unknown {
  let cur: unknown = doc;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    cur = (cur as Doc)[part];
  }
  return cur;
}

// MongoDB's type bracketing, reduced to the types JSON aggregates and the outbox use.
function typeRank(v: unknown): number {
  if (v === undefined || v === null) return 1;
  if (typeof v === 'number') return 2;
  if (typeof v === 'string') return 3;
  if (Array.isArray(v)) return 5;
  if (v instanceof Date) return 8;
  if (typeof v === 'boolean') return 7;
  if (typeof v === 'object') return 4;
  return 9;
}

/** Total order used by sorts (missing/null first ascending, then numbers, strings, objects, arrays, booleans, dates). */
export function compareValues(a: unknown, b: unknown): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra - rb;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (a instanceof Date && b instanceof Date) return a.getTime() - b.getTime();
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  const sa = canonicalKey(a);
  const sb = canonicalKey(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/** A string equal for equal values: the key of unique indexes and of deep equality. */
export function canonicalKey(v: unknown): string {
  return JSON.stringify(v === undefined ? null : v, (_k, val: unknown) => {
    if (val instanceof Date) return { $date: val.getTime() };
    if (val !== null && typeof val === 'object' && !Array.isArray(val)) {
      const sorted: Doc = {};
      for (const key of Object.keys(val as Doc).sort()) sorted[key] = (val as Doc)[key];
      return sorted;
    }
    return val;
  });
}

type Predicate = (doc: Doc) => boolean;

/**
 * Compiles a filter of the port's small language (field equality, $eq $ne $in $lt $lte $gt $gte $exists, dotted paths)
 * into a predicate with sift, which matches as MongoDB does (null matches missing, a stored array matches a member).
 */
export function compileFilter(filter: Filter<Doc> | Record<string, unknown>): Predicate {
  const query: Doc = {};
  for (const [path, cond] of Object.entries(filter)) {
    if (cond === undefined) continue;
    if (path.startsWith('$')) throw new Error(`unsupported top-level query operator ${path}`);
    query[path] = cond;
  }
  return sift(query as Parameters<typeof sift>[0]) as Predicate;
}

/** Stable multi-field sort (ties keep the given order, i.e. insertion order). */
export function sortDocs<T extends Doc>(docs: T[], sort: Sort[] | undefined): T[] {
  if (!sort || sort.length === 0) return docs;
  return docs
    .map((doc, i) => ({ doc, i }))
    .sort((a, b) => {
      for (const s of sort) {
        const c = compareValues(getPath(a.doc, s.field), getPath(b.doc, s.field));
        if (c !== 0) return s.direction === 1 ? c : -c;
      }
      return a.i - b.i;
    })
    .map((x) => x.doc);
}

/** Filters, sorts and limits a list of documents (not copied). */
export function query<T extends Doc>(docs: Iterable<T>, filter: Filter<Doc> | Record<string, unknown>, options: FindOptions = {}): T[] {
  const predicate = compileFilter(filter);
  const limit = options.limit !== undefined && options.limit > 0 ? options.limit : undefined;
  const sort = options.sort;
  if (limit !== undefined && sort && sort.length > 0) return topK(docs, predicate, sort, limit);
  const found: T[] = [];
  for (const d of docs) {
    if (!predicate(d)) continue;
    found.push(d);
    if (limit !== undefined && !sort?.length && found.length >= limit) break;
  }
  return sortDocs(found, sort);
}

/**
 * The first `limit` matches in sort order without sorting them all: a page of 20 out of 10,000 trips keeps 20 rows,
 * with each row's sort values read once. Ties keep the given (insertion) order, as the full sort does.
 */
function topK<T extends Doc>(docs: Iterable<T>, predicate: (d: Doc) => boolean, sort: Sort[], limit: number): T[] {
  const kept: { doc: T; keys: unknown[] }[] = [];
  const compare = (a: unknown[], b: unknown[]): number => {
    for (let i = 0; i < sort.length; i++) {
      const c = compareValues(a[i], b[i]);
      if (c !== 0) return sort[i]?.direction === 1 ? c : -c;
    }
    return 0;
  };
  for (const doc of docs) {
    if (!predicate(doc)) continue;
    const keys = sort.map((s) => getPath(doc, s.field));
    const last = kept[kept.length - 1];
    if (kept.length >= limit && last !== undefined && compare(keys, last.keys) >= 0) continue;
    // Upper bound: after every row that compares equal, so earlier rows win ties.
    let lo = 0;
    let hi = kept.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const row = kept[mid];
      if (row !== undefined && compare(row.keys, keys) <= 0) lo = mid + 1;
      else hi = mid;
    }
    kept.splice(lo, 0, { doc, keys });
    if (kept.length > limit) kept.pop();
  }
  return kept.map((row) => row.doc);
}

/** Measured on MongoDB's 2dsphere Earth, so both adapters agree on "within range". */
export function haversineMeters(lng1: number, lat1: number, lng2: number, lat2: number): number {
  return haversineKm({ lat: lat1, lng: lng1 }, { lat: lat2, lng: lng2 }, EARTH_RADIUS_2DSPHERE_KM) * 1000;
}

/** The [lng, lat] of a GeoJSON Point, or null when the value is not one. */
export function pointCoordinates(value: unknown): [number, number] | null {
  if (value === null || typeof value !== 'object') return null;
  const v = value as Doc;
  if (v.type !== 'Point' || !Array.isArray(v.coordinates)) return null;
  const [lng, lat] = v.coordinates as unknown[];
  return typeof lng === 'number' && typeof lat === 'number' ? [lng, lat] : null;
}

/** Removes `id`/`version` from a partial update: the adapters own those fields. */
export function cleanSet(set: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(set)) if (k !== 'id' && k !== 'version' && k !== '_id') out[k] = v;
  return out;
}

/** Applies a top-level `set` to a copy of `doc`: an `undefined` value removes the field. */
export function applySet(doc: Doc, set: Record<string, unknown>): Doc {
  const out: Doc = { ...doc };
  for (const [k, v] of Object.entries(cleanSet(set))) {
    if (v === undefined) delete out[k];
    else out[k] = cloneValue(v);
  }
  return out;
}

/** Small jittered exponential backoff between whole-work retries, so racing units of work spread out. */
export function backoffDelay(attempt: number, baseDelayMs: number): number {
  const cap = baseDelayMs * 2 ** Math.min(attempt - 1, 6);
  return Math.floor(Math.random() * cap) + 1;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
