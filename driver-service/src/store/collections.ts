// The collections driver-service owns in its `drivers` database, with the indexes its queries need.
import { defineCollection, defineSummaryLedger, type SummaryLedger } from '@ridehail/shared';
import type { Driver } from '../domain/driver';
import { applyContribution, emptySummary, type DriverTripSummary, type TripContribution } from '../domain/summary';
import type { RideAssignment } from '../domain/trip';

export const drivers = defineCollection<Driver>('drivers', [
  // `$near` needs it: the nearest AVAILABLE driver is found and reserved in one findOneAndUpdate.
  { fields: { location: '2dsphere' }, name: 'location_2dsphere' },
  { fields: { createdAt: -1, id: -1 }, name: 'newest_first' },
  { fields: { status: 1, createdAt: -1, id: -1 }, name: 'status_newest_first' },
]);

/** One record per ride (id = ride id): the decision taken for it, and the driver's trip when a driver was reserved. */
export const rideAssignments = defineCollection<RideAssignment>('rideAssignments', [
  { fields: { driverId: 1, sortKey: -1 }, name: 'driver_trips' },
]);

/** The driver trip-history view: one precomputed summary per driver (id = driver id). */
export const driverTripSummaries = defineCollection<DriverTripSummary>('driverTripSummaries');

const ledgers = new Map<string, SummaryLedger<DriverTripSummary, TripContribution>>();

/**
 * The driver summaries' ledger: a trip change adds one row in the trip's transaction, folded into the summary shortly
 * after (DESIGN §9). `currency` is that of a summary the fold has to create (drivers get theirs at POST /drivers).
 */
export function driverLedger(currency: string): SummaryLedger<DriverTripSummary, TripContribution> {
  let ledger = ledgers.get(currency);
  if (!ledger) {
    ledger = defineSummaryLedger<DriverTripSummary, TripContribution>({
      summaries: driverTripSummaries,
      empty: (driverId) => emptySummary(driverId, currency),
      apply: applyContribution,
    });
    ledgers.set(currency, ledger);
  }
  return ledger;
}

export const collections = [drivers, rideAssignments, driverTripSummaries];
