// Small builders for payment-service tests: envelopes of the events it consumes, and a harness over the in-memory store.
import { randomUUID } from 'node:crypto';
import {
  MemoryStore,
  createEnvelope,
  createLogger,
  dispatch,
  type AnyEnvelope,
  type AnySubscription,
  type DispatchOutcome,
  type Envelope,
  type EventType,
  type PayloadOf,
  type Point,
  type Store,
} from '@ridehail/shared';
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

export const rider = (id = `rider-${randomUUID()}`) => ({ id, name: 'Ada Rider', email: 'ada@example.com' });
export const driver = (id = `driver-${randomUUID()}`) => ({ id, name: 'Dan Driver', email: 'dan@example.com' });

export function envelope<T extends EventType>(type: T, payload: PayloadOf<T>, source: string, id?: string): Envelope<T> {
  return createEnvelope({ type, payload, source, correlationId: (payload as { rideId: string }).rideId, ...(id ? { id } : {}) });
}

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
  envelope(
    'ride.requested',
    {
      rideId: ride.rideId,
      rider: rider(ride.riderId),
      pickup: ride.pickup,
      dropoff: ride.dropoff,
      paymentMethod: ride.paymentMethod,
      requestedAt: new Date().toISOString(),
    },
    'ride-service',
  );

export const driverAssigned = (ride: Ride) =>
  envelope(
    'driver.assigned',
    {
      rideId: ride.rideId,
      driver: driver(ride.driverId),
      riderId: ride.riderId,
      pickup: ride.pickup,
      dropoff: ride.dropoff,
      paymentMethod: ride.paymentMethod,
      distanceKm: 0.4,
    },
    'driver-service',
  );

export const rideCancelled = (ride: Ride, withDriver = true) =>
  envelope(
    'ride.cancelled',
    {
      rideId: ride.rideId,
      rider: rider(ride.riderId),
      ...(withDriver ? { driver: driver(ride.driverId) } : {}),
      reason: 'rider_cancelled',
    },
    'ride-service',
  );

export const rideCompleted = (ride: Ride) =>
  envelope(
    'ride.completed',
    { rideId: ride.rideId, rider: rider(ride.riderId), driver: driver(ride.driverId), completedAt: new Date().toISOString() },
    'ride-service',
  );

/** The same fact under a new message id (a republish, or a producer that sent it twice). */
export function again<T extends EventType>(env: Envelope<T>): Envelope<T> {
  return { ...env, id: randomUUID() };
}

export interface EmittedEvent {
  id: string;
  type: EventType;
  payload: Record<string, unknown>;
  causationId?: string;
  correlationId: string;
}

export class PaymentHarness {
  readonly store: Store;
  /** Silent: a test that provokes a failure asserts on it instead of printing it. */
  readonly logger = Object.assign(createLogger('payment-service', 'error'), { silent: true });
  private readonly emitted: EmittedEvent[] = [];
  readonly deps: PaymentHandlerDeps;

  constructor(
    readonly gateway: PaymentGateway = new SimulatedGateway(),
    store: Store = new MemoryStore({ name: 'payments-test' }),
  ) {
    this.store = store;
    this.deps = { gateway, tariff };
  }

  async init(): Promise<this> {
    await this.store.init(collections);
    return this;
  }

  /** The handler main.ts runs for this event: tests exercise the production wiring, not a copy of it. */
  private subscriptionFor(env: AnyEnvelope): AnySubscription {
    const found = subscriptions(this.deps).find((s) => s.event === env.type);
    if (found === undefined) throw new Error(`payment-service does not consume ${env.type}`);
    return found;
  }

  /** Delivers one message as the consumer would (attempt 1 of 5 unless told). */
  deliver(env: AnyEnvelope, attempt = 1, maxAttempts = 5): Promise<DispatchOutcome> {
    return dispatch({
      store: this.store,
      consumer: 'payment-service',
      envelope: env,
      subscription: this.subscriptionFor(env),
      attempt,
      maxAttempts,
      logger: this.logger,
    });
  }

  /** Every event committed to the outbox so far, in commit order. */
  async events(): Promise<EmittedEvent[]> {
    const claimed = await this.store.outbox.claim('test', 10_000, 60_000);
    await this.store.outbox.markDispatched(
      'test',
      claimed.map((r) => r.id),
    );
    for (const r of claimed) {
      this.emitted.push({
        id: r.id,
        type: r.type,
        payload: r.payload as Record<string, unknown>,
        correlationId: r.headers.correlationId,
        ...(r.headers.causationId !== undefined ? { causationId: r.headers.causationId } : {}),
      });
    }
    return [...this.emitted];
  }

  async eventsOf(type: EventType): Promise<EmittedEvent[]> {
    return (await this.events()).filter((e) => e.type === type);
  }
}

/** Over a fresh in-memory store unless told otherwise (the handlers speak only the store port). */
export async function harness(gateway?: PaymentGateway, store?: Store): Promise<PaymentHarness> {
  return new PaymentHarness(gateway, store).init();
}
