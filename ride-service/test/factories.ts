// Small builders of riders, rides and the events other services send ride-service, and its handler harness, for its tests.
import { randomUUID } from 'node:crypto';
import { readSummary, sortKey, type Envelope, type EventType, type PayloadOf, type PersonRef, type ServiceName } from '@ridehail/shared';
import { aDriver, envelopeOf, HandlerHarness } from '@ridehail/shared/testing';
import { subscriptions } from '../src/main';
import { requestRide, type Change, type Decision, type Ride } from '../src/domain/ride';
import { newRider, type Rider } from '../src/domain/rider';
import { emptySummary } from '../src/domain/tripHistory';
import { rideCollections, riderLedger, riders, riderSummaries, rides } from '../src/store/collections';
import * as rideStore from '../src/store/rides';

export const CURRENCY = 'EUR';

let clock = Date.parse('2030-01-01T08:00:00.000Z');
/** Strictly increasing times, one minute apart, so orderings in tests are unambiguous. */
export function nextTime(): string {
  clock += 60_000;
  return new Date(clock).toISOString();
}

export function change(overrides: Partial<Change> = {}): Change {
  return { at: nextTime(), cause: `req-${randomUUID()}`, ...overrides };
}

export function aRider(overrides: Partial<Rider> = {}): Rider {
  const id = overrides.id ?? `rider-${randomUUID()}`;
  return { ...newRider({ id, name: 'Rita Rider', email: `rita.${id}@example.com`, status: 'ACTIVE', at: nextTime() }), ...overrides };
}

export const PICKUP = { lat: 52.52, lng: 13.405 };
export const DROPOFF = { lat: 52.5, lng: 13.45 };

export function changedRide(decision: Decision): Ride {
  if (!decision.changed) throw new Error(`expected a change, got ${decision.refusal}: ${decision.detail}`);
  return decision.ride;
}

/** A REQUESTED ride of `rider` (an active one by default). */
export function aRequestedRide(rider: Rider = aRider(), at = change()): Ride {
  const id = `ride-${randomUUID()}`;
  return changedRide(
    requestRide({ id, rider, pickup: PICKUP, dropoff: DROPOFF, paymentMethod: 'pm_card_visa', sortKey: sortKey(at.at, id) }, at),
  );
}

// Incoming events, as the other services publish them.
function envelope<T extends EventType>(type: T, rideId: string, payload: PayloadOf<T>, source: ServiceName): Envelope<T> {
  return envelopeOf(type, payload, source, { correlationId: rideId });
}

export function driverAssigned(ride: Ride, driver: PersonRef = aDriver()): Envelope<'driver.assigned'> {
  return envelope(
    'driver.assigned',
    ride.id,
    {
      rideId: ride.id,
      driver,
      riderId: ride.riderId,
      pickup: ride.pickup,
      dropoff: ride.dropoff,
      paymentMethod: ride.paymentMethod,
      distanceKm: 1.2,
    },
    'driver-service',
  );
}

export function driverUnavailable(ride: Ride): Envelope<'driver.unavailable'> {
  return envelope(
    'driver.unavailable',
    ride.id,
    { rideId: ride.id, riderId: ride.riderId, reason: 'no_driver_available' },
    'driver-service',
  );
}

export function fareCalculated(ride: Ride, amount = 1234): Envelope<'fare.calculated'> {
  return envelope(
    'fare.calculated',
    ride.id,
    { rideId: ride.id, fare: { amount, currency: CURRENCY }, distanceKm: 3.9 },
    'payment-service',
  );
}

export function paymentAuthorized(ride: Ride, driver: PersonRef = aDriver(), amount = 1234): Envelope<'payment.authorized'> {
  return envelope(
    'payment.authorized',
    ride.id,
    { rideId: ride.id, paymentId: `pay-${ride.id}`, fare: { amount, currency: CURRENCY }, driver },
    'payment-service',
  );
}

export function paymentDeclined(ride: Ride, driverId = 'driver-x', driver?: PersonRef): Envelope<'payment.declined'> {
  return envelope(
    'payment.declined',
    ride.id,
    { rideId: ride.id, paymentId: `pay-${ride.id}`, driverId, ...(driver ? { driver } : {}), reason: 'card_declined' },
    'payment-service',
  );
}

export function paymentCaptured(ride: Ride, amount = 1234, driverId = ride.driver?.id ?? 'driver-x'): Envelope<'payment.captured'> {
  return envelope(
    'payment.captured',
    ride.id,
    {
      rideId: ride.id,
      paymentId: `pay-${ride.id}`,
      riderId: ride.riderId,
      driverId,
      fare: { amount, currency: CURRENCY },
      capturedAt: nextTime(),
    },
    'payment-service',
  );
}

/** An in-memory ride-service: seed riders and rides, deliver messages through the inbox, read what it stored and emitted. */
export class Harness extends HandlerHarness {
  constructor() {
    super({
      service: 'ride-service',
      subscriptions: subscriptions({ currency: CURRENCY }),
      collections: rideCollections,
      ledgers: [riderLedger(CURRENCY)],
    });
  }

  async seedRider(rider: Rider = aRider()): Promise<Rider> {
    await this.store.run(async (tx) => {
      await tx.repo(riders).insert(rider);
      await tx.repo(riderSummaries).insert(emptySummary(rider.id, CURRENCY));
    });
    return rider;
  }

  /** Stores a REQUESTED ride (and its summary change) the way POST /rides does. */
  async seedRide(rider?: Rider): Promise<Ride> {
    const owner = rider ?? (await this.seedRider());
    const ride = aRequestedRide(owner);
    return this.store.run((tx) => rideStore.save(tx, null, ride, CURRENCY));
  }

  async ride(id: string): Promise<Ride> {
    const ride = await this.store.read(rides).get(id);
    if (!ride) throw new Error(`ride ${id} not stored`);
    return ride;
  }

  /** The rider's summary as GET answers it: the stored document and the ledger rows not folded yet. */
  summary(riderId: string) {
    return readSummary(this.store, riderLedger(CURRENCY), riderId);
  }
}
