// The in-memory store's secondary indexes over committed rows: equality buckets per indexed field and a lat/lng grid for `$near`.
import { EARTH_RADIUS_2DSPHERE_KM } from '../geo';
import { compareValues, getPath, pointCoordinates, type Doc } from './query';

type Key = string | number;

interface Entry {
  value: unknown;
  seq: number;
  id: string;
}

interface Bucket {
  ids: Set<string>;
  /** sort field → this bucket's ids ascending by (value, seq): the second field of a compound index, ready for sorted pages */
  orders: Map<string, Entry[]>;
  /** The largest row sequence number added so far: an id added below it breaks natural order until the next lookup sorts. */
  maxSeq: number;
  ordered: boolean;
}

/** The keys a document is found under by a plain string/number equality: its value, or each element of an array. */
function keysOf(value: unknown): Key[] {
  if (typeof value === 'string' || typeof value === 'number') return [value];
  if (!Array.isArray(value)) return [];
  const out: Key[] = [];
  for (const v of value) if ((typeof v === 'string' || typeof v === 'number') && !out.includes(v)) out.push(v);
  return out;
}

/**
 * Committed ids by the value of one field. A lookup returns them in natural (collection insertion) order, which the
 * caller's `seqOf` defines, so indexed reads return rows in exactly the order a scan would.
 */
export class EqualityIndex {
  private readonly buckets = new Map<Key, Bucket>();
  /** The second fields of the declared indexes that lead with `field`. */
  readonly orderFields: string[] = [];
  constructor(readonly field: string) {}

  /** Declares a sort field; ignored once rows are indexed (buckets built without it cannot answer for it). */
  addOrder(sortField: string): void {
    if (this.buckets.size === 0 && !this.orderFields.includes(sortField)) this.orderFields.push(sortField);
  }

  hasOrder(sortField: string): boolean {
    return this.orderFields.includes(sortField);
  }

  /** Moves `id` from the keys of its old committed version to those of its new one (either may be null). */
  update(id: string, before: Doc | null, after: Doc | null, seq: number): void {
    const oldKeys = before ? keysOf(getPath(before, this.field)) : [];
    const newKeys = after ? keysOf(getPath(after, this.field)) : [];
    for (const k of oldKeys) {
      const bucket = this.buckets.get(k);
      if (!bucket) continue;
      const kept = newKeys.includes(k);
      for (const [sortField, entries] of bucket.orders) {
        const oldValue = getPath(before, sortField);
        if (kept && after && getPath(after, sortField) === oldValue) continue;
        const at = findEntry(entries, oldValue, seq);
        if (at >= 0) entries.splice(at, 1);
        if (kept && after) insertEntry(entries, { value: getPath(after, sortField), seq, id });
      }
      if (kept) continue;
      bucket.ids.delete(id);
      if (bucket.ids.size === 0) this.buckets.delete(k);
    }
    for (const k of newKeys) {
      // An unchanged value keeps its place, so the bucket stays in natural order.
      if (oldKeys.includes(k)) continue;
      let bucket = this.buckets.get(k);
      if (!bucket) {
        bucket = { ids: new Set(), orders: new Map(this.orderFields.map((f) => [f, []])), maxSeq: -1, ordered: true };
        this.buckets.set(k, bucket);
      }
      if (bucket.ids.has(id) || !after) continue;
      if (seq < bucket.maxSeq) bucket.ordered = false;
      else bucket.maxSeq = seq;
      bucket.ids.add(id);
      for (const [sortField, entries] of bucket.orders) insertEntry(entries, { value: getPath(after, sortField), seq, id });
    }
  }

  /** Committed ids holding `value` in the order a stable sort on `sortField` gives (ties in natural order); needs `hasOrder`. */
  *sorted(value: Key, sortField: string, direction: 1 | -1): Generator<string> {
    const entries = this.buckets.get(value)?.orders.get(sortField);
    if (!entries) return;
    if (direction === 1) {
      for (const e of entries) yield e.id;
      return;
    }
    // Descending by value, but each run of equal values still in natural (ascending seq) order.
    for (let end = entries.length - 1; end >= 0;) {
      let start = end;
      while (start > 0 && compareValues(entries[start - 1]!.value, entries[end]!.value) === 0) start--;
      for (let i = start; i <= end; i++) yield entries[i]!.id;
      end = start - 1;
    }
  }

  size(value: Key): number {
    return this.buckets.get(value)?.ids.size ?? 0;
  }

  /** Committed ids holding `value`, in natural order. */
  lookup(value: Key, seqOf: (id: string) => number): Iterable<string> {
    const bucket = this.buckets.get(value);
    if (!bucket) return [];
    if (!bucket.ordered) {
      const ids = [...bucket.ids].sort((a, b) => seqOf(a) - seqOf(b));
      bucket.ids = new Set(ids);
      bucket.ordered = true;
    }
    return bucket.ids;
  }
}

const compareEntry = (a: Entry, value: unknown, seq: number): number => compareValues(a.value, value) || a.seq - seq;

/** The index of the first entry not below (value, seq). */
function lowerBound(entries: Entry[], value: unknown, seq: number): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareEntry(entries[mid]!, value, seq) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function findEntry(entries: Entry[], value: unknown, seq: number): number {
  const at = lowerBound(entries, value, seq);
  return at < entries.length && entries[at]!.seq === seq ? at : -1;
}

function insertEntry(entries: Entry[], entry: Entry): void {
  entries.splice(lowerBound(entries, entry.value, entry.seq), 0, entry);
}

const CELL_DEG = 0.05;
/** Past this latitude the grid's distance bounds get loose; searches there scan instead. */
const MAX_SEARCH_LAT = 85;
/** Slack on the distance bounds (metres) so float rounding never prunes a cell holding the winner. */
const BOUND_SLACK_M = 1;
const RADIUS_M = EARTH_RADIUS_2DSPHERE_KM * 1000;
const RAD = Math.PI / 180;

const cellKey = (i: number, j: number): string => `${i}:${j}`;

export interface NearPoint {
  lng: number;
  lat: number;
}

/**
 * Committed ids bucketed by the 0.05° × 0.05° cell of their GeoJSON point. Points outside the valid lng/lat range sit
 * apart and are always visited, since their distance wraps around where the grid does not.
 */
export class GeoGrid {
  private readonly cells = new Map<string, Set<string>>();
  private readonly cellOfId = new Map<string, string>();
  private readonly stray = new Set<string>();
  constructor(readonly field: string) {}

  update(id: string, after: Doc | null): void {
    const old = this.cellOfId.get(id);
    if (old !== undefined) {
      const set = this.cells.get(old);
      set?.delete(id);
      if (set && set.size === 0) this.cells.delete(old);
      this.cellOfId.delete(id);
    }
    this.stray.delete(id);
    if (!after) return;
    const c = pointCoordinates(getPath(after, this.field));
    if (!c) return;
    const [lng, lat] = c;
    if (!(lng >= -180 && lng <= 180 && lat >= -90 && lat <= 90)) {
      this.stray.add(id);
      return;
    }
    const key = cellKey(Math.floor(lat / CELL_DEG), Math.floor(lng / CELL_DEG));
    let set = this.cells.get(key);
    if (!set) {
      set = new Set();
      this.cells.set(key, set);
    }
    set.add(id);
    this.cellOfId.set(id, key);
  }

  /**
   * Visits committed ids ring by ring around `near` until no unvisited point can be within `limit()` metres (the caller
   * lowers it as it finds candidates). Returns false, having possibly visited some ids, when the grid cannot answer
   * (search box reaching the poles or the antimeridian, or more cells than rows): the caller must scan instead.
   */
  search(near: NearPoint, limit: () => number, visit: (id: string) => void): boolean {
    const { lng, lat } = near;
    if (!Number.isFinite(lng) || !Number.isFinite(lat) || Math.abs(lat) > MAX_SEARCH_LAT || Math.abs(lng) > 180) return false;
    for (const id of this.stray) visit(id);
    const ci = Math.floor(lat / CELL_DEG);
    const cj = Math.floor(lng / CELL_DEG);
    const cosLat = Math.cos(lat * RAD);
    const cellBudget = this.cellOfId.size + 64;
    let visitedCells = 0;
    for (let r = 0; ; r++) {
      const south = (ci - r) * CELL_DEG;
      const north = (ci + r + 1) * CELL_DEG;
      const west = (cj - r) * CELL_DEG;
      const east = (cj + r + 1) * CELL_DEG;
      if (south < -MAX_SEARCH_LAT || north > MAX_SEARCH_LAT || west < -180 || east > 180 || east - west > 90) return false;
      for (let i = ci - r; i <= ci + r; i++) {
        const edgeRow = i === ci - r || i === ci + r;
        for (let j = cj - r; j <= cj + r; j += edgeRow ? 1 : 2 * r) {
          visitedCells++;
          const set = this.cells.get(cellKey(i, j));
          if (set) for (const id of set) visit(id);
          if (r === 0) break;
        }
      }
      // Any point outside the box crosses one of its edges: a parallel (by latitude alone) or a meridian.
      const toLatEdge = Math.min(lat - south, north - lat) * RAD * RADIUS_M;
      const toLngEdge = Math.asin(Math.min(1, cosLat * Math.sin(Math.min(lng - west, east - lng) * RAD))) * RADIUS_M;
      const bound = Math.min(toLatEdge, toLngEdge) - BOUND_SLACK_M;
      if (bound > limit()) return true;
      if (visitedCells > cellBudget) return false;
    }
  }
}
