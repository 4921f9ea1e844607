// The one catalogue of event types (= routing keys), their versions, publishing exchange and payload schemas.
import { z } from 'zod';

export const pointSchema = z.object({
  lat: z.number().min(-90).max(90),
  lng: z.number().min(-180).max(180),
});
export type Point = z.infer<typeof pointSchema>;

export const moneySchema = z.object({
  amount: z.number().int().nonnegative(),
  currency: z.string().length(3),
});
export type Money = z.infer<typeof moneySchema>;

export const paymentMethodSchema = z.string().min(1).max(64);

const personRef = z.object({ id: z.string().min(1), name: z.string(), email: z.email() });
export type PersonRef = z.infer<typeof personRef>;

/** A time in events and HTTP answers: ISO 8601 with its offset (DESIGN §3). */
export const isoTime = z.iso.datetime({ offset: true });

export const releaseReasonSchema = z.enum(['payment_declined', 'cancelled', 'completed']);
export type ReleaseReason = z.infer<typeof releaseReasonSchema>;
export const cancelReasonSchema = z.enum(['payment_declined', 'rider_cancelled']);
export type CancelReason = z.infer<typeof cancelReasonSchema>;
export const templateSchema = z.enum(['ride-confirmed', 'ride-rejected', 'ride-cancelled', 'receipt']);
export type Template = z.infer<typeof templateSchema>;

/** Exchanges are named after the publishing service (DESIGN §1); BROKER_PREFIX is added by the messaging layer. */
export const exchanges = {
  ride: 'ride.events',
  driver: 'driver.events',
  payment: 'payment.events',
  notification: 'notification.events',
} as const;
export type ExchangeName = (typeof exchanges)[keyof typeof exchanges];

/**
 * Older payload shapes of one event still read, by version: each validates a payload of that version and rewrites it in
 * the current shape (a zod pipe), so a message already in a queue, an outbox or a parking queue at deploy time is still
 * handled. `parseEnvelope` applies them; handlers only ever see the current shape.
 */
export type OlderVersions<S extends z.ZodType> = Readonly<Record<number, z.ZodType<z.input<S>>>>;

function entry<S extends z.ZodType>(exchange: ExchangeName, schema: S, version = 1, older: OlderVersions<S> = {}) {
  return { exchange, schema, version, older };
}

// Version 1 of the payment events carried money flat (`amount`, `currency`); version 2 nests it as `fare: Money`, as
// ride.* do. Each v1 schema is its v2 payload with `fare` flat again; they stay only to read what was published before
// v2, and entry() checks that a v1 payload read through fareOfFlat has the v2 shape.
const flatMoney = moneySchema.shape;
const fareOfFlat = <P extends { amount: number; currency: string }>({ amount, currency, ...rest }: P) => ({
  ...rest,
  fare: { amount, currency },
});

const fareCalculated = z.object({ rideId: z.string().min(1), fare: moneySchema, distanceKm: z.number().nonnegative() });
const paymentAuthorized = z.object({ rideId: z.string().min(1), paymentId: z.string().min(1), fare: moneySchema, driver: personRef });
const paymentCaptured = z.object({
  rideId: z.string().min(1),
  paymentId: z.string().min(1),
  riderId: z.string().min(1),
  driverId: z.string().min(1),
  fare: moneySchema,
  capturedAt: isoTime,
});

// Payloads are self-contained: each carries what every consumer needs, so arrival order never matters (DESIGN §2).
export const eventCatalogue = {
  'ride.requested': entry(
    exchanges.ride,
    z.object({
      rideId: z.string().min(1),
      rider: personRef,
      pickup: pointSchema,
      dropoff: pointSchema,
      paymentMethod: paymentMethodSchema,
      requestedAt: isoTime,
    }),
  ),
  'ride.confirmed': entry(
    exchanges.ride,
    z.object({
      rideId: z.string().min(1),
      rider: personRef,
      driver: personRef,
      pickup: pointSchema,
      dropoff: pointSchema,
      fare: moneySchema.optional(),
    }),
  ),
  'ride.rejected': entry(exchanges.ride, z.object({ rideId: z.string().min(1), rider: personRef, reason: z.string() })),
  'ride.cancelled': entry(
    exchanges.ride,
    z.object({
      rideId: z.string().min(1),
      rider: personRef,
      driver: personRef.optional(),
      reason: cancelReasonSchema,
    }),
  ),
  'ride.completed': entry(
    exchanges.ride,
    z.object({
      rideId: z.string().min(1),
      rider: personRef,
      driver: personRef,
      fare: moneySchema.optional(),
      completedAt: isoTime,
    }),
  ),
  'ride.rated': entry(
    exchanges.ride,
    z.object({
      rideId: z.string().min(1),
      riderId: z.string().min(1),
      driverId: z.string().min(1),
      stars: z.number().int().min(1).max(5),
    }),
  ),
  'driver.assigned': entry(
    exchanges.driver,
    z.object({
      rideId: z.string().min(1),
      driver: personRef,
      riderId: z.string().min(1),
      pickup: pointSchema,
      dropoff: pointSchema,
      paymentMethod: paymentMethodSchema,
      distanceKm: z.number().nonnegative(),
    }),
  ),
  'driver.unavailable': entry(exchanges.driver, z.object({ rideId: z.string().min(1), riderId: z.string().min(1), reason: z.string() })),
  'driver.released': entry(
    exchanges.driver,
    z.object({ rideId: z.string().min(1), driverId: z.string().min(1), reason: releaseReasonSchema }),
  ),
  'fare.calculated': entry(exchanges.payment, fareCalculated, 2, {
    1: fareCalculated.omit({ fare: true }).extend(flatMoney).transform(fareOfFlat),
  }),
  'payment.authorized': entry(exchanges.payment, paymentAuthorized, 2, {
    1: paymentAuthorized.omit({ fare: true }).extend(flatMoney).transform(fareOfFlat),
  }),
  'payment.declined': entry(
    exchanges.payment,
    z.object({
      rideId: z.string().min(1),
      paymentId: z.string().min(1),
      driverId: z.string().min(1),
      // The driver too, so a decline that overtakes driver.assigned still lets ride.cancelled name whom to tell.
      driver: personRef.optional(),
      reason: z.string(),
    }),
  ),
  'payment.voided': entry(exchanges.payment, z.object({ rideId: z.string().min(1), paymentId: z.string().min(1) })),
  'payment.captured': entry(exchanges.payment, paymentCaptured, 2, {
    1: paymentCaptured.omit({ fare: true }).extend(flatMoney).transform(fareOfFlat),
  }),
  'notification.sent': entry(
    exchanges.notification,
    z.object({
      rideId: z.string().min(1),
      notificationId: z.string().min(1),
      recipient: z.email(),
      template: templateSchema,
    }),
  ),
  'notification.failed': entry(
    exchanges.notification,
    z.object({
      rideId: z.string().min(1),
      notificationId: z.string().min(1),
      recipient: z.email(),
      template: templateSchema,
      error: z.string(),
    }),
  ),
} as const;

export type EventCatalogue = typeof eventCatalogue;
export type EventType = keyof EventCatalogue;
export type PayloadOf<T extends EventType> = z.infer<EventCatalogue[T]['schema']>;
