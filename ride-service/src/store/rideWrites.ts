// Every write of a ride goes through here, so its rider's summary moves with the ride itself, by a ledger row (DESIGN §9).
import { recordTripChange, type Transaction } from '@ridehail/shared';
import type { Ride } from '../domain/ride';
import { contribution } from '../domain/tripHistory';
import { riderLedger, rides } from './collections';

/** Attempts of a unit of work that writes a ride: only a race on that same ride makes it run again. */
export const RIDE_WRITE_ATTEMPTS = 10;

/**
 * Stores `after` (inserting it when `before` is null, else as an optimistic update of `before`'s version) and records
 * the trip's change for its rider's summary: one new ledger row, nothing another ride of the rider writes too.
 */
export async function saveRideChange(tx: Transaction, before: Ride | null, after: Ride, currency: string): Promise<Ride> {
  const stored = before === null ? await tx.repo(rides).insert(after) : await tx.repo(rides).update({ ...after, version: before.version });
  await recordTripChange(tx, riderLedger(currency), after.riderId, contribution(before), contribution(after));
  return stored;
}
