// Every write of a ride goes through here, so its rider's summary moves in the same unit of work as the ride itself (DESIGN §9).
import type { Transaction } from '@ridehail/shared';
import type { Ride } from '../domain/ride';
import { applyTripChange, emptySummary, type RiderSummary } from '../domain/tripHistory';
import { rides, riderSummaries } from './collections';

/** A busy rider's summary is written by every change of every one of their rides: lost races are expected, so retry more. */
export const RIDE_WRITE_ATTEMPTS = 10;

/**
 * Stores `after` (inserting it when `before` is null, else as an optimistic update of `before`'s version) and applies
 * the trip's change to its rider's summary. A concurrent writer of either document makes the unit of work run again.
 */
export async function saveRideChange(tx: Transaction, before: Ride | null, after: Ride, currency: string): Promise<Ride> {
  const stored = before === null ? await tx.repo(rides).insert(after) : await tx.repo(rides).update({ ...after, version: before.version });
  await updateSummary(tx, before, after, currency);
  return stored;
}

async function updateSummary(tx: Transaction, before: Ride | null, after: Ride, currency: string): Promise<RiderSummary> {
  const repo = tx.repo(riderSummaries);
  const current = await repo.get(after.riderId);
  // Summaries are created with their rider; one missing (a rider older than the view) starts from zero here.
  const next = applyTripChange(current ?? emptySummary(after.riderId, currency), before, after);
  return current === null ? repo.insert(next) : repo.update(next);
}
