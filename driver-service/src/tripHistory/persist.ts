// Saves a changed trip and moves its driver's summary by the trip's change of contribution, in the caller's unit of work.
import type { Transaction } from '@ridehail/shared';
import { applyTripChange, emptySummary } from '../domain/summary';
import type { RideAssignment } from '../domain/trip';
import { driverTripSummaries, rideAssignments } from '../store/collections';

/** `before` is the record as loaded (null when new); `after` the domain's next state, carrying `before`'s version. */
export async function saveTrip(
  tx: Transaction,
  before: RideAssignment | null,
  after: RideAssignment,
  currency: string,
): Promise<RideAssignment> {
  const trips = tx.repo(rideAssignments);
  const saved = before === null ? await trips.insert(after) : await trips.update(after);
  if (after.driverId === undefined) return saved;
  const summaries = tx.repo(driverTripSummaries);
  const stored = await summaries.get(after.driverId);
  const next = applyTripChange(stored ?? emptySummary(after.driverId, currency), before, after);
  if (next === null) return saved;
  if (stored === null) await summaries.insert(next);
  else await summaries.update(next);
  return saved;
}
