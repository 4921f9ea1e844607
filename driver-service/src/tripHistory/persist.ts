// Saves a changed trip and records its change of contribution for its driver's summary, in the caller's unit of work.
import { recordTripChange, type Transaction } from '@ridehail/shared';
import { contributionTo, sameContribution } from '../domain/summary';
import type { RideAssignment } from '../domain/trip';
import { driverLedger, rideAssignments } from '../store/collections';

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
  const sub = contributionTo(after.driverId, before);
  const add = contributionTo(after.driverId, after);
  // A change that moves none of the driver's totals (e.g. a step with no driver yet) needs no ledger row.
  if (!sameContribution(sub, add)) await recordTripChange(tx, driverLedger(currency), after.driverId, sub, add);
  return saved;
}
