// Small builders for notification-service tests: ride events, and a harness over the in-memory store and a real SMTP sink.
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
  type PersonRef,
  type Store,
} from '@ridehail/shared';
import { startSmtpSink, type SinkMessage, type SmtpSink } from '../../test/support/smtpSink';
import type { Notification } from '../src/domain/notification';
import type { NotificationHandlerDeps } from '../src/handlers/deps';
import { createMailer, type Mailer } from '../src/mail/mailer';
import { subscriptions } from '../src/main';
import { collections, notificationsCollection } from '../src/store/collections';

export const pickup = { lat: 52.5219, lng: 13.4132 };
export const dropoff = { lat: 52.4986, lng: 13.4032 };

export function person(role: 'rider' | 'driver'): PersonRef {
  const id = `${role}-${randomUUID()}`;
  return { id, name: role === 'rider' ? 'Ada Rider' : 'Dan Driver', email: `${id}@example.com` };
}

export interface Ride {
  rideId: string;
  rider: PersonRef;
  driver: PersonRef;
}

export const aRide = (): Ride => ({ rideId: `ride-${randomUUID()}`, rider: person('rider'), driver: person('driver') });

function envelope<T extends EventType>(type: T, payload: PayloadOf<T>): Envelope<T> {
  return createEnvelope({ type, payload, source: 'ride-service', correlationId: (payload as { rideId: string }).rideId });
}

export const rideConfirmed = (r: Ride) =>
  envelope('ride.confirmed', {
    rideId: r.rideId,
    rider: r.rider,
    driver: r.driver,
    pickup,
    dropoff,
    fare: { amount: 1234, currency: 'EUR' },
  });
export const rideRejected = (r: Ride) => envelope('ride.rejected', { rideId: r.rideId, rider: r.rider, reason: 'no_driver_available' });
export const rideCancelled = (r: Ride, withDriver: boolean) =>
  envelope('ride.cancelled', {
    rideId: r.rideId,
    rider: r.rider,
    ...(withDriver ? { driver: r.driver } : {}),
    reason: withDriver ? 'payment_declined' : 'rider_cancelled',
  });
export const rideCompleted = (r: Ride) =>
  envelope('ride.completed', {
    rideId: r.rideId,
    rider: r.rider,
    driver: r.driver,
    fare: { amount: 1234, currency: 'EUR' },
    completedAt: new Date().toISOString(),
  });

export function again<T extends EventType>(env: Envelope<T>): Envelope<T> {
  return { ...env, id: randomUUID() };
}

export interface EmittedEvent {
  type: EventType;
  payload: Record<string, unknown>;
  causationId?: string;
}

export class NotificationHarness {
  readonly store: Store;
  /** Silent: a test that provokes a failure asserts on it instead of printing it. */
  readonly logger = Object.assign(createLogger('notification-service', 'error'), { silent: true });
  readonly deps: NotificationHandlerDeps;
  private readonly emitted: EmittedEvent[] = [];

  constructor(
    readonly sink: SmtpSink,
    readonly mailer: Mailer,
    store: Store = new MemoryStore({ name: 'notifications-test' }),
  ) {
    this.store = store;
    this.deps = { mailer };
  }

  /** The handler main.ts runs for this event: tests exercise the production wiring, not a copy of it. */
  private subscriptionFor(env: AnyEnvelope): AnySubscription {
    const found = subscriptions(this.deps).find((s) => s.event === env.type);
    if (found === undefined) throw new Error(`notification-service does not consume ${env.type}`);
    return found;
  }

  deliver(env: AnyEnvelope, attempt = 1, maxAttempts = 3): Promise<DispatchOutcome> {
    return dispatch({
      store: this.store,
      consumer: 'notification-service',
      envelope: env,
      subscription: this.subscriptionFor(env),
      attempt,
      maxAttempts,
      logger: this.logger,
    });
  }

  async events(): Promise<EmittedEvent[]> {
    const claimed = await this.store.outbox.claim('test', 10_000, 60_000);
    await this.store.outbox.markDispatched(
      'test',
      claimed.map((r) => r.id),
    );
    for (const r of claimed) {
      this.emitted.push({
        type: r.type,
        payload: r.payload as Record<string, unknown>,
        ...(r.headers.causationId ? { causationId: r.headers.causationId } : {}),
      });
    }
    return [...this.emitted];
  }

  records(rideId: string): Promise<Notification[]> {
    return this.store.read(notificationsCollection).find({ rideId });
  }

  emails(rideId: string): SinkMessage[] {
    return this.sink.messages.filter((m) => m.headers['x-ride-id'] === rideId);
  }
}

/** One SMTP sink and one (pooled) mailer per test file, started in `before`; a fresh store per test. */
export async function startSink(): Promise<{ sink: SmtpSink; mailer: Mailer }> {
  const sink = await startSmtpSink();
  const mailer = createMailer({
    smtpUrl: sink.url,
    from: 'RideHail <no-reply@ridehail.example>',
    logger: Object.assign(createLogger('notification-service', 'error'), { silent: true }),
  });
  return { sink, mailer };
}

/** Over a fresh in-memory store unless told otherwise (the handlers speak only the store port). */
export async function harness(sink: SmtpSink, mailer: Mailer, store?: Store): Promise<NotificationHarness> {
  const h = new NotificationHarness(sink, mailer, store);
  await h.store.init(collections);
  return h;
}
