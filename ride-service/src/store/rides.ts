// The rides as ride-service's use cases, handlers and routes ask for them: one by id, saved with its rider's ledger row, pages newest first.
import { readerOf, recordTripChange, type Filter, type ReadSource, type Store, type Transaction } from '@ridehail/shared';
import type { Ride, RideStatus } from '../domain/ride';
import { contribution } from '../domain/tripHistory';
import { riderLedger, rides } from './collections';

/** Attempts of a unit of work that writes a ride: only a race on that same ride makes it run again. */
export const RIDE_WRITE_ATTEMPTS = 10;

export function byId(source: ReadSource, rideId: string): Promise<Ride | null> {
  return readerOf(source, rides).get(rideId);
}

/**
 * Every write of a ride goes through here, so its rider's summary moves with the ride itself (DESIGN §9): stores `after`
 * (new when `before` is null, else over `before`'s version) and one new ledger row, nothing another ride of the rider
 * writes too.
 */
export async function save(tx: Transaction, before: Ride | null, after: Ride, currency: string): Promise<Ride> {
  const stored = before === null ? await tx.repo(rides).insert(after) : await tx.repo(rides).update({ ...after, version: before.version });
  await recordTripChange(tx, riderLedger(currency), after.riderId, contribution(before), contribution(after));
  return stored;
}

export interface RidePageQuery {
  riderId?: string;
  status?: RideStatus;
  /** Only rides older than this paging key (a decoded `before` cursor). */
  olderThan?: string;
  limit: number;
}

/** Newest first by paging key, on the index that matches the query (rider's trips, status, or all). */
export function page(store: Store, query: RidePageQuery): Promise<Ride[]> {
  const filter: Filter<Ride> = {};
  if (query.riderId !== undefined) filter.riderId = query.riderId;
  if (query.status !== undefined) filter.status = query.status;
  if (query.olderThan !== undefined) filter.sortKey = { $lt: query.olderThan };
  return store.read(rides).find(filter, { sort: [{ field: 'sortKey', direction: -1 }], limit: query.limit });
}

/** Every ride of one rider, in the repair's unit of work: what the rider's summary is recomputed from. */
export function ofRider(tx: Transaction, riderId: string): Promise<Ride[]> {
  return tx.repo(rides).find({ riderId });
}
