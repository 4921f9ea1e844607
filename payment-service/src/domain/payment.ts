// The payment aggregate and the per-ride ledger: which gateway call a message asks for, and what it records and emits.
import { createHash } from 'node:crypto';
import type { EventType, Money, PayloadOf, PersonRef, Point, Versioned } from '@ridehail/shared';
import { quoteFare, sameQuote, type Quote, type Tariff } from './fare';

export const paymentStatuses = ['AUTHORIZED', 'DECLINED', 'CAPTURED', 'VOIDED'] as const;
export type PaymentStatus = (typeof paymentStatuses)[number];

/** One authorization attempt's record; at most one per ride because its id is derived from the ride id. */
export interface Payment extends Versioned {
  rideId: string;
  riderId: string;
  driverId: string;
  driver: PersonRef;
  paymentMethod: string;
  status: PaymentStatus;
  amount: number;
  currency: string;
  distanceKm: number;
  /** The gateway's reference of an authorization (absent when declined). */
  authorizationId?: string;
  /** Why the gateway declined. */
  reason?: string;
  createdAt: string;
  updatedAt: string;
  authorizedAt?: string;
  declinedAt?: string;
  voidedAt?: string;
  capturedAt?: string;
}

/**
 * What payment-service remembers of a ride besides its payment: the quote, whether `fare.calculated` went out, and a
 * cancellation that may arrive before there is anything to void (DESIGN §2, "remember the cancellation").
 */
export interface RideLedger extends Versioned {
  quote?: Quote;
  quotedAt?: string;
  /** Set once `fare.calculated` was emitted: a later `ride.requested`, under any message id, emits nothing. */
  fareCalculatedAt?: string;
  cancelledAt?: string;
  /**
   * The delivery calling the gateway for this ride right now, and until when (DESIGN §5, leased external effects): a
   * second delivery of `driver.assigned` that finds a live lease waits for it instead of calling again.
   */
  authorizing?: { holder: string; until: string };
  createdAt: string;
  updatedAt: string;
}

export type PaymentEvent = { [T in EventType]: { type: T; payload: PayloadOf<T> } }[
  'fare.calculated' | 'payment.authorized' | 'payment.declined' | 'payment.voided' | 'payment.captured'];

export interface Trip {
  pickup: Point;
  dropoff: Point;
}

/** The money of a quote or a payment as events carry it: stored flat, it travels as one `fare` object like ride.* do. */
function moneyOf(of: { amount: number; currency: string }): Money {
  return { amount: of.amount, currency: of.currency };
}

/** Deterministic, so two messages about one ride can only ever meet on one payment document. */
export function paymentIdFor(rideId: string): string {
  return `pay_${createHash('sha256').update(rideId).digest('hex').slice(0, 32)}`;
}

export function emptyLedger(rideId: string, at: string): RideLedger {
  return { id: rideId, version: 1, createdAt: at, updatedAt: at };
}

// ---- ride.requested: the quote --------------------------------------------------------------------------------------

/** Quotes once per ride: the quote an earlier `driver.assigned` stored is reused, so both always agree. */
export function quoteOnRideRequested(
  ledger: RideLedger | null,
  rideId: string,
  trip: Trip,
  tariff: Tariff,
  at: string,
): { ledger: RideLedger; event: PaymentEvent } | null {
  if (ledger?.fareCalculatedAt !== undefined) return null;
  const base = ledger ?? emptyLedger(rideId, at);
  const quote = base.quote ?? quoteFare(trip.pickup, trip.dropoff, tariff);
  return {
    ledger: { ...base, quote, quotedAt: base.quotedAt ?? at, fareCalculatedAt: at, updatedAt: at },
    event: { type: 'fare.calculated', payload: { rideId, fare: moneyOf(quote), distanceKm: quote.distanceKm } },
  };
}

// ---- driver.assigned: the authorization -----------------------------------------------------------------------------

export type AuthorizationPlan = { kind: 'already-decided'; payment: Payment } | { kind: 'cancelled' } | { kind: 'authorize'; quote: Quote };

export function planAuthorization(ledger: RideLedger | null, payment: Payment | null, trip: Trip, tariff: Tariff): AuthorizationPlan {
  if (payment !== null) return { kind: 'already-decided', payment };
  if (ledger?.cancelledAt !== undefined) return { kind: 'cancelled' };
  return { kind: 'authorize', quote: ledger?.quote ?? quoteFare(trip.pickup, trip.dropoff, tariff) };
}

export type AuthorizationLease = { kind: 'leased'; ledger: RideLedger } | { kind: 'busy'; until: string };

/** Takes the ride's gateway lease for `holder`, unless another delivery holds a live one. */
export function leaseAuthorization(
  ledger: RideLedger | null,
  rideId: string,
  lease: { holder: string; until: string },
  at: string,
): AuthorizationLease {
  const held = ledger?.authorizing;
  if (held !== undefined && held.holder !== lease.holder && Date.parse(held.until) > Date.parse(at)) {
    return { kind: 'busy', until: held.until };
  }
  return { kind: 'leased', ledger: { ...(ledger ?? emptyLedger(rideId, at)), authorizing: lease, updatedAt: at } };
}

/** Two plans agree when acting on one is still right under the other (the state did not move in between). */
export function samePlan(a: AuthorizationPlan, b: AuthorizationPlan): boolean {
  if (a.kind === 'authorize' && b.kind === 'authorize') return sameQuote(a.quote, b.quote);
  if (a.kind === 'already-decided' && b.kind === 'already-decided')
    return a.payment.id === b.payment.id && a.payment.status === b.payment.status;
  return a.kind === b.kind;
}

export type GatewayAuthorization = { outcome: 'authorized'; authorizationId: string } | { outcome: 'declined'; reason: string };

export function recordAuthorization(
  ledger: RideLedger | null,
  assigned: PayloadOf<'driver.assigned'>,
  quote: Quote,
  result: GatewayAuthorization,
  at: string,
): { ledger: RideLedger; payment: Payment; event: PaymentEvent } {
  const { authorizing: _ended, ...base } = ledger ?? emptyLedger(assigned.rideId, at);
  // The gateway answered: the lease ends with the record of its answer.
  const nextLedger: RideLedger = { ...base, quote: base.quote ?? quote, quotedAt: base.quotedAt ?? at, updatedAt: at };
  const common = {
    id: paymentIdFor(assigned.rideId),
    version: 1,
    rideId: assigned.rideId,
    riderId: assigned.riderId,
    driverId: assigned.driver.id,
    driver: assigned.driver,
    paymentMethod: assigned.paymentMethod,
    amount: quote.amount,
    currency: quote.currency,
    distanceKm: quote.distanceKm,
    createdAt: at,
    updatedAt: at,
  };
  if (result.outcome === 'authorized') {
    const payment: Payment = { ...common, status: 'AUTHORIZED', authorizationId: result.authorizationId, authorizedAt: at };
    return {
      ledger: nextLedger,
      payment,
      event: {
        type: 'payment.authorized',
        payload: {
          rideId: payment.rideId,
          paymentId: payment.id,
          fare: moneyOf(payment),
          driver: payment.driver,
        },
      },
    };
  }
  const payment: Payment = { ...common, status: 'DECLINED', reason: result.reason, declinedAt: at };
  return {
    ledger: nextLedger,
    payment,
    event: {
      type: 'payment.declined',
      payload: { rideId: payment.rideId, paymentId: payment.id, driverId: payment.driverId, driver: payment.driver, reason: result.reason },
    },
  };
}

// ---- ride.cancelled: void, or remember ------------------------------------------------------------------------------

export type CancellationPlan = { kind: 'void'; payment: Payment } | { kind: 'remember' };

/** Only an authorization is undone; no payment yet means the cancellation is remembered for a late `driver.assigned`. */
export function planCancellation(payment: Payment | null): CancellationPlan {
  return payment?.status === 'AUTHORIZED' ? { kind: 'void', payment } : { kind: 'remember' };
}

/** Null when the ledger already knows: a repeated cancellation changes nothing. */
export function rememberCancellation(ledger: RideLedger | null, rideId: string, at: string): RideLedger | null {
  if (ledger?.cancelledAt !== undefined) return null;
  const base = ledger ?? emptyLedger(rideId, at);
  return { ...base, cancelledAt: at, updatedAt: at };
}

export function voidPayment(payment: Payment, at: string): { payment: Payment; event: PaymentEvent } | null {
  if (payment.status !== 'AUTHORIZED') return null;
  return {
    payment: { ...payment, status: 'VOIDED', voidedAt: at, updatedAt: at },
    event: { type: 'payment.voided', payload: { rideId: payment.rideId, paymentId: payment.id } },
  };
}

// ---- ride.completed: capture ----------------------------------------------------------------------------------------

export type CapturePlan =
  { kind: 'capture'; payment: Payment } | { kind: 'nothing'; why: 'no-payment' | 'already-captured' | 'not-authorized' };

export function planCapture(payment: Payment | null): CapturePlan {
  if (payment === null) return { kind: 'nothing', why: 'no-payment' };
  if (payment.status === 'CAPTURED') return { kind: 'nothing', why: 'already-captured' };
  if (payment.status !== 'AUTHORIZED') return { kind: 'nothing', why: 'not-authorized' };
  return { kind: 'capture', payment };
}

/** AUTHORIZED → CAPTURED once; anything else is no change, so a second `ride.completed` emits nothing. */
export function capturePayment(payment: Payment, capturedAt: string, at: string): { payment: Payment; event: PaymentEvent } | null {
  if (payment.status !== 'AUTHORIZED') return null;
  const captured: Payment = { ...payment, status: 'CAPTURED', capturedAt, updatedAt: at };
  return {
    payment: captured,
    event: {
      type: 'payment.captured',
      payload: {
        rideId: captured.rideId,
        paymentId: captured.id,
        riderId: captured.riderId,
        driverId: captured.driverId,
        fare: moneyOf(captured),
        capturedAt,
      },
    },
  };
}
