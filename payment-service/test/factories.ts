// Small builders for payment-service tests: the tariff, rides, the events it consumes, and its handler harness.
import { randomUUID } from 'node:crypto';
import type { Point, Store } from '@ridehail/shared';
import { aDriver, aRider, envelopeOf, HandlerHarness } from '@ridehail/shared/testing';
import type { Tariff } from '../src/domain/fare';
import type { PaymentGateway } from '../src/gateway/gateway';
import { SimulatedGateway } from '../src/gateway/simulator';
import type { PaymentHandlerDeps } from '../src/handlers/deps';
import { subscriptions } from '../src/main';
import { collections } from '../src/store/collections';

export const tariff: Tariff = { baseMinor: 250, perKmMinor: 120, currency: 'EUR' };
/** Alexanderplatz → Kreuzberg: a few kilometres across Berlin. */
export const pickup: Point = { lat: 52.5219, lng: 13.4132 };
export const dropoff: Point = { lat: 52.4986, lng: 13.4032 };

export interface Ride {
  rideId: string;
  riderId: string;
  driverId: string;
  paymentMethod: string;
  pickup: Point;
  dropoff: Point;
}

export function aRide(overrides: Partial<Ride> = {}): Ride {
  return {
    rideId: `ride-${randomUUID()}`,
    riderId: `rider-${randomUUID()}`,
    driverId: `driver-${randomUUID()}`,
    paymentMethod: 'pm_card_visa',
    pickup,
    dropoff,
    ...overrides,
  };
}

export const rideRequested = (ride: Ride) =>
  envelopeOf(
    'ride.requested',
    {
      rideId: ride.rideId,
      rider: aRider({ id: ride.riderId }),
      pickup: ride.pickup,
      dropoff: ride.dropoff,
      paymentMethod: ride.paymentMethod,
      requestedAt: new Date().toISOString(),
    },
    'ride-service',
  );

export const driverAssigned = (ride: Ride) =>
  envelopeOf(
    'driver.assigned',
    {
      rideId: ride.rideId,
      driver: aDriver({ id: ride.driverId }),
      riderId: ride.riderId,
      pickup: ride.pickup,
      dropoff: ride.dropoff,
      paymentMethod: ride.paymentMethod,
      distanceKm: 0.4,
    },
    'driver-service',
  );

export const rideCancelled = (ride: Ride, withDriver = true) =>
  envelopeOf(
    'ride.cancelled',
    {
      rideId: ride.rideId,
      rider: aRider({ id: ride.riderId }),
      ...(withDriver ? { driver: aDriver({ id: ride.driverId }) } : {}),
      reason: 'rider_cancelled',
    },
    'ride-service',
  );

export const rideCompleted = (ride: Ride) =>
  envelopeOf(
    'ride.completed',
    {
      rideId: ride.rideId,
      rider: aRider({ id: ride.riderId }),
      driver: aDriver({ id: ride.driverId }),
      completedAt: new Date().toISOString(),
    },
    'ride-service',
  );

/** payment-service's handlers over an in-memory store, with the gateway they call and their deps (a test may pin the clock). */
export class PaymentHarness extends HandlerHarness {
  readonly deps: PaymentHandlerDeps;

  constructor(
    readonly gateway: PaymentGateway = new SimulatedGateway(),
    store?: Store,
  ) {
    const deps: PaymentHandlerDeps = { gateway, tariff };
    super({ service: 'payment-service', subscriptions: subscriptions(deps), collections, store });
    this.deps = deps;
  }
}

/** Over a fresh in-memory store unless told otherwise (the handlers speak only the store port). */
export async function harness(gateway?: PaymentGateway, store?: Store): Promise<PaymentHarness> {
  return new PaymentHarness(gateway, store).init();
}
