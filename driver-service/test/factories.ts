// Small builders for driver-service tests: drivers, the events other services send it, and its handler harness.
import { randomUUID } from 'node:crypto';
import {
  readSummary,
  type Envelope,
  type EventType,
  type PayloadOf,
  type PersonRef,
  type Point,
  type ServiceName,
  type Store,
} from '@ridehail/shared';
import { aRider, envelopeOf, HandlerHarness } from '@ridehail/shared/testing';
import { newDriver, type Driver, type NewDriver } from '../src/domain/driver';
import { emptySummary, type DriverTripSummary } from '../src/domain/summary';
import type { RideAssignment } from '../src/domain/trip';
import { subscriptions } from '../src/main';
import { collections, driverLedger, drivers, driverTripSummaries, rideAssignments } from '../src/store/collections';

export const CENTRE: Point = { lat: 52.52, lng: 13.405 };

/** A point `km` kilometres north of `from` (1° of latitude ≈ 111.2 km). */
export function north(km: number, from: Point = CENTRE): Point {
  return { lat: from.lat + km / 111.195, lng: from.lng };
}

export function aDriverInput(overrides: Partial<NewDriver> = {}): NewDriver {
  const id = overrides.id ?? `d-${randomUUID().slice(0, 8)}`;
  return { id, name: `Driver ${id}`, email: `${id}@example.test`, location: CENTRE, ...overrides };
}

function event<T extends EventType>(type: T, source: ServiceName, rideId: string, payload: PayloadOf<T>, at?: Date): Envelope<T> {
  return envelopeOf(type, payload, source, { correlationId: rideId, occurredAt: at });
}

export function rideRequested(overrides: Partial<PayloadOf<'ride.requested'>> = {}): Envelope<'ride.requested'> {
  const rideId = overrides.rideId ?? `ride-${randomUUID()}`;
  return event('ride.requested', 'ride-service', rideId, {
    rideId,
    rider: aRider(),
    pickup: CENTRE,
    dropoff: north(3),
    paymentMethod: 'pm_card_visa',
    requestedAt: new Date().toISOString(),
    ...overrides,
  });
}

export function rideConfirmed(rideId: string, driver: PersonRef, at?: Date): Envelope<'ride.confirmed'> {
  return event('ride.confirmed', 'ride-service', rideId, { rideId, rider: aRider(), driver, pickup: CENTRE, dropoff: north(3) }, at);
}

export function rideCompleted(rideId: string, driver: PersonRef, completedAt = new Date()): Envelope<'ride.completed'> {
  return event(
    'ride.completed',
    'ride-service',
    rideId,
    { rideId, rider: aRider(), driver, completedAt: completedAt.toISOString() },
    completedAt,
  );
}

export function rideCancelled(
  rideId: string,
  reason: PayloadOf<'ride.cancelled'>['reason'] = 'rider_cancelled',
  at?: Date,
): Envelope<'ride.cancelled'> {
  return event('ride.cancelled', 'ride-service', rideId, { rideId, rider: aRider(), reason }, at);
}

export function paymentDeclined(rideId: string, driverId: string): Envelope<'payment.declined'> {
  return event('payment.declined', 'payment-service', rideId, { rideId, paymentId: `pay-${rideId}`, driverId, reason: 'card declined' });
}

export function paymentCaptured(rideId: string, driverId: string, amount = 1250, capturedAt = new Date()): Envelope<'payment.captured'> {
  return event(
    'payment.captured',
    'payment-service',
    rideId,
    {
      rideId,
      paymentId: `pay-${rideId}`,
      riderId: 'rider-1',
      driverId,
      fare: { amount, currency: 'EUR' },
      capturedAt: capturedAt.toISOString(),
    },
    capturedAt,
  );
}

export function rideRated(rideId: string, driverId: string, stars = 5, at?: Date): Envelope<'ride.rated'> {
  return event('ride.rated', 'ride-service', rideId, { rideId, riderId: 'rider-1', driverId, stars }, at);
}

export function ref(d: Driver): PersonRef {
  return { id: d.id, name: d.name, email: d.email };
}

export interface HarnessOptions {
  radiusKm?: number;
  now?: () => Date;
  /** Another store to run over (e.g. a MongoStore); an in-memory one by default. */
  store?: Store;
}

/** driver-service's handlers over an in-memory store, fed as the consumer feeds them, with drivers to seed and read. */
export class DriverHarness extends HandlerHarness {
  static async create(options: HarnessOptions = {}): Promise<DriverHarness> {
    return new DriverHarness(options).init();
  }

  private constructor(options: HarnessOptions) {
    super({
      service: 'driver-service',
      subscriptions: subscriptions({ radiusKm: options.radiusKm ?? 5, currency: 'EUR', now: options.now }),
      collections,
      ledgers: [driverLedger('EUR')],
      store: options.store,
    });
  }

  async seedDriver(overrides: Partial<NewDriver> = {}): Promise<Driver> {
    const driver = newDriver(aDriverInput(overrides), new Date().toISOString());
    await this.store.run(async (tx) => {
      await tx.repo(drivers).insert(driver);
      await tx.repo(driverTripSummaries).insert(emptySummary(driver.id, 'EUR'));
    });
    return driver;
  }

  async driver(id: string): Promise<Driver> {
    const d = await this.store.read(drivers).get(id);
    if (!d) throw new Error(`no driver ${id}`);
    return d;
  }

  async trip(rideId: string): Promise<RideAssignment | null> {
    return this.store.read(rideAssignments).get(rideId);
  }

  /** The driver's summary as GET answers it: the stored document and the ledger rows not folded yet. */
  async summary(driverId: string): Promise<DriverTripSummary | null> {
    return readSummary(this.store, driverLedger('EUR'), driverId);
  }
}

/** Every ordering of `items` (n! of them), generated rather than hand-picked. */
export function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [items.slice()];
  const out: T[][] = [];
  items.forEach((item, i) => {
    const rest = [...items.slice(0, i), ...items.slice(i + 1)];
    for (const p of permutations(rest)) out.push([item, ...p]);
  });
  return out;
}

/** Every distinct ordering of a multiset (e.g. each event twice), keyed by `key`. */
export function distinctPermutations<T>(items: readonly T[], key: (t: T) => string): T[][] {
  const seen = new Set<string>();
  const out: T[][] = [];
  for (const p of permutations(items)) {
    const k = p.map(key).join(',');
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(p);
  }
  return out;
}
