// driver-service's own command: writes a driver's trip history (`--driver <id> --count <n> [--from <k>]`) through the trip domain's transitions, for the trip-history benchmark.
import { runSeedTripsMain, sortKey, type SeedTrip } from '@ridehail/shared';
import type { Driver } from '../domain/driver';
import { assignDriver, complete, confirm, recordCapture, recordRating, type RideAssignment } from '../domain/trip';
import { collections, driverLedger } from '../store/collections';
import * as drivers from '../store/drivers';
import * as trips from '../store/trips';

/** Every seeded trip completed and paid; two in three rated. */
function driverTrip(driverId: string, trip: SeedTrip, currency: string): RideAssignment {
  const { k, rideId } = trip;
  const step = (rec: RideAssignment | null, what: string): RideAssignment => {
    if (rec === null) throw new Error(`seeding trip ${k}: ${what} refused`);
    return rec;
  };
  let rec = assignDriver(null, rideId, driverId, trip.at(), sortKey(trip.at(), rideId));
  rec = step(confirm(rec, trip.at(10)), 'confirm');
  rec = step(complete(rec, trip.at(30)), 'complete');
  const capture = { paymentId: `pay-${rideId}`, amount: { amount: trip.fare, currency }, at: trip.at(31) };
  rec = step(recordCapture(rec, rideId, capture), 'capture');
  if (k % 3 !== 0) rec = step(recordRating(rec, rideId, 1 + (k % 5), trip.at(40)), 'rate');
  return rec;
}

runSeedTripsMain<Driver>({
  service: 'driver-service',
  person: 'driver',
  database: 'drivers',
  collections: (currency) => [...collections, driverLedger(currency).entries],
  ledger: driverLedger,
  owner: (store, id) => drivers.byId(store, id),
  writeTrip: async (tx, driver, trip, currency) => {
    await trips.save(tx, null, driverTrip(driver.id, trip, currency), currency);
  },
});
