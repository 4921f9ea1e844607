// ride-service's own command: writes a rider's trip history (`--rider <id> --count <n> [--from <k>]`) through the ride domain's transitions, for the trip-history benchmark.
import { runSeedTripsMain, sortKey, type SeedTrip } from '@ridehail/shared';
import {
  assignDriver,
  cancelByRider,
  completeRide,
  confirmRide,
  rateRide,
  recordCapture,
  rejectRide,
  requestRide,
  type Decision,
  type Ride,
} from '../domain/ride';
import type { Rider } from '../domain/rider';
import { rideCollections, riderLedger } from '../store/collections';
import * as rides from '../store/rides';
import * as riders from '../store/riders';

/** The driver of every seeded trip: the rider's history shows one, and no other service is asked about it. */
const SEED_DRIVER = { id: 'seed-driver', name: 'Seed Driver', email: 'seed.driver@seed.example' };

function decided(d: Decision, what: string, trip: SeedTrip): Ride {
  if (!d.changed) throw new Error(`seeding trip ${trip.k}: ${what} refused (${d.refusal}: ${d.detail})`);
  return d.ride;
}

/** Mostly completed, paid and rated; every 20th from the 7th rejected and from the 13th cancelled; a third left unrated. */
function riderTrip(rider: Rider, trip: SeedTrip, currency: string): Ride {
  const { k, rideId } = trip;
  const change = (s: number) => ({ at: trip.at(s), cause: `seed-${k}-${s}` });
  const pickup = { lat: 52.52, lng: 13.405 };
  const request = { id: rideId, rider, pickup, dropoff: { lat: 52.53, lng: 13.42 }, paymentMethod: 'pm_card_visa' };
  let ride = decided(requestRide({ ...request, sortKey: sortKey(trip.at(), rideId) }, change(0)), 'request', trip);
  if (k % 20 === 7) return decided(rejectRide(ride, 'no driver in range', change(5)), 'reject', trip);
  ride = decided(assignDriver(ride, SEED_DRIVER, change(5)), 'assign', trip);
  if (k % 20 === 13) return decided(cancelByRider(ride, change(8)), 'cancel', trip);
  ride = decided(confirmRide(ride, { driver: SEED_DRIVER, fare: { amount: trip.fare, currency } }, change(10)), 'confirm', trip);
  ride = decided(completeRide(ride, change(30)), 'complete', trip);
  const paid = { paymentId: `pay-${rideId}`, amount: trip.fare, currency, capturedAt: trip.at(31) };
  ride = decided(recordCapture(ride, paid, change(31)), 'capture', trip);
  if (k % 3 !== 0) ride = decided(rateRide(ride, { stars: 1 + (k % 5) }, change(40)), 'rate', trip);
  return ride;
}

runSeedTripsMain<Rider>({
  service: 'ride-service',
  person: 'rider',
  database: 'rides',
  collections: (currency) => [...rideCollections, riderLedger(currency).entries],
  ledger: riderLedger,
  owner: (store, id) => riders.byId(store, id),
  writeTrip: async (tx, rider, trip, currency) => {
    await rides.save(tx, null, riderTrip(rider, trip, currency), currency);
  },
});
