// The per-ride records ("trips") as driver-service asks for them: one by ride, saved with its driver's ledger row, a driver's page.
import { readerOf, recordTripChange, type Filter, type ReadSource, type Store, type Transaction } from '@ridehail/shared';
import { contributionTo, sameContribution } from '../domain/summary';
import type { RideAssignment } from '../domain/trip';
import { driverLedger, rideAssignments } from './collections';

export function ofRide(source: ReadSource, rideId: string): Promise<RideAssignment | null> {
  return readerOf(source, rideAssignments).get(rideId);
}

/**
 * Saves a changed trip and records its change of contribution for its driver's summary, in the caller's unit of work.
 * `before` is the record as loaded (null when new); `after` the domain's next state, carrying `before`'s version.
 */
export async function save(
  tx: Transaction,
  before: RideAssignment | null,
  after: RideAssignment,
  currency: string,
): Promise<RideAssignment> {
  const trips = tx.repo(rideAssignments);
  const saved = before === null ? await trips.insert(after) : await trips.update(after);
  if (after.driverId === undefined) return saved;
  const sub = contributionTo(after.driverId, before);
  const add = contributionTo(after.driverId, after);
  // A change that moves none of the driver's totals (e.g. a step with no driver yet) needs no ledger row.
  if (!sameContribution(sub, add)) await recordTripChange(tx, driverLedger(currency), after.driverId, sub, add);
  return saved;
}

/** A driver's trips newest first by paging key, older than `olderThan` when given (a decoded `before` cursor). */
export function page(store: Store, query: { driverId: string; olderThan?: string; limit: number }): Promise<RideAssignment[]> {
  const filter: Filter<RideAssignment> = { driverId: query.driverId };
  if (query.olderThan !== undefined) filter.sortKey = { $lt: query.olderThan };
  return store.read(rideAssignments).find(filter, { sort: [{ field: 'sortKey', direction: -1 }], limit: query.limit });
}

/** Every trip of one driver, in the repair's unit of work: what the driver's summary is recomputed from. */
export function ofDriver(tx: Transaction, driverId: string): Promise<RideAssignment[]> {
  return tx.repo(rideAssignments).find({ driverId });
}
