// Small builders for notification-service tests: rides and the ride events it consumes, and a harness over a real SMTP sink.
import { randomUUID } from 'node:crypto';
import type { Envelope, EventType, PayloadOf, PersonRef, Store } from '@ridehail/shared';
import { aDriver, aRider, envelopeOf, HandlerHarness, silentLogger } from '@ridehail/shared/testing';
import { startSmtpSink, type SinkMessage, type SmtpSink } from '../../test/support/smtpSink';
import type { Notification } from '../src/domain/notification';
import type { NotificationHandlerDeps } from '../src/handlers/deps';
import { createMailer, type Mailer } from '../src/mail/mailer';
import { subscriptions } from '../src/main';
import { collections, notificationsCollection } from '../src/store/collections';

export const pickup = { lat: 52.5219, lng: 13.4132 };
export const dropoff = { lat: 52.4986, lng: 13.4032 };

export interface Ride {
  rideId: string;
  rider: PersonRef;
  driver: PersonRef;
}

export const aRide = (): Ride => ({ rideId: `ride-${randomUUID()}`, rider: aRider(), driver: aDriver() });

/** Every event it consumes is ride-service's. */
function envelope<T extends EventType>(type: T, payload: PayloadOf<T>): Envelope<T> {
  return envelopeOf(type, payload, 'ride-service');
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

/** notification-service's handlers over an in-memory store, mailing a real SMTP sink; a test may tune their deps. */
export class NotificationHarness extends HandlerHarness {
  readonly deps: NotificationHandlerDeps;

  constructor(
    readonly sink: SmtpSink,
    readonly mailer: Mailer,
    store?: Store,
  ) {
    const deps: NotificationHandlerDeps = { mailer };
    super({ service: 'notification-service', subscriptions: subscriptions(deps), collections, store });
    this.deps = deps;
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
    logger: silentLogger('notification-service'),
  });
  return { sink, mailer };
}

/** Over a fresh in-memory store unless told otherwise (the handlers speak only the store port). */
export async function harness(sink: SmtpSink, mailer: Mailer, store?: Store): Promise<NotificationHarness> {
  return new NotificationHarness(sink, mailer, store).init();
}
