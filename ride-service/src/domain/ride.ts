// The ride aggregate: ride-service's view of the saga as a state machine whose transitions guard themselves, so late or repeated events are harmless.
import type { CancelReason, Money, PayloadOf, PersonRef, Point } from '@ridehail/shared';
import { riderRef, type Rider } from './rider';

export const rideStatuses = ['REQUESTED', 'DRIVER_ASSIGNED', 'CONFIRMED', 'COMPLETED', 'REJECTED', 'CANCELLED'] as const;
export type RideStatus = (typeof rideStatuses)[number];

const terminalStatuses: ReadonlySet<RideStatus> = new Set<RideStatus>(['COMPLETED', 'REJECTED', 'CANCELLED']);

export function isTerminal(status: RideStatus): boolean {
  return terminalStatuses.has(status);
}

export const DEFAULT_PAYMENT_METHOD = 'pm_card_visa';

export interface HistoryEntry {
  status: RideStatus;
  at: string;
  /** The id of the message or HTTP request that made the change. */
  cause: string;
}

export interface CapturedPayment {
  paymentId: string;
  amount: number;
  currency: string;
  capturedAt: string;
}

export interface RideRating {
  stars: number;
  comment?: string;
  ratedAt: string;
}

export interface Ride {
  id: string;
  version: number;
  riderId: string;
  /** A snapshot of the rider taken at request time, so every event this ride emits is self-contained. */
  rider: PersonRef;
  status: RideStatus;
  pickup: Point;
  dropoff: Point;
  paymentMethod: string;
  driver?: PersonRef;
  fare?: Money;
  reason?: string;
  paid?: CapturedPayment;
  rating?: RideRating;
  history: HistoryEntry[];
  createdAt: string;
  /** Only ever moves forward: the rider's `lastTripAt` is the latest of these. */
  updatedAt: string;
  endedAt?: string;
  /** Opaque paging key (newest first) computed by the caller; the domain only carries it. */
  sortKey: string;
}

type RideEventType = 'ride.requested' | 'ride.confirmed' | 'ride.rejected' | 'ride.cancelled' | 'ride.completed' | 'ride.rated';
export type RideEvent = { [T in RideEventType]: { type: T; payload: PayloadOf<T> } }[RideEventType];

/** Why a transition did not happen: handlers acknowledge these without effect, HTTP turns them into 403/409. */
export type Refusal = 'rider-inactive' | 'terminal' | 'wrong-status' | 'already-recorded';

export type Decision = { changed: true; ride: Ride; events: RideEvent[] } | { changed: false; refusal: Refusal; detail: string };

/** When and because of what a change happens. */
export interface Change {
  at: string;
  cause: string;
}

function refuse(refusal: Refusal, detail: string): Decision {
  return { changed: false, refusal, detail };
}

function changed(ride: Ride, events: RideEvent[] = []): Decision {
  return { changed: true, ride, events };
}

/** The later of two ISO times (the first on a tie), so `updatedAt` never goes back on a skewed clock. */
export function later(a: string, b: string): string {
  return Date.parse(b) > Date.parse(a) ? b : a;
}

function touched(ride: Ride, change: Change, fields: Partial<Ride>): Ride {
  return { ...ride, ...fields, updatedAt: later(ride.updatedAt, change.at) };
}

function moved(ride: Ride, status: RideStatus, change: Change, fields: Partial<Ride> = {}): Ride {
  const next = touched(ride, change, { ...fields, status, history: [...ride.history, { status, at: change.at, cause: change.cause }] });
  if (isTerminal(status)) next.endedAt = change.at;
  return next;
}

function terminalRefusal(ride: Ride, what: string): Decision {
  return refuse('terminal', `ride ${ride.id} is ${ride.status}; ${what} changes nothing`);
}

export interface RideRequest {
  id: string;
  rider: Rider;
  pickup: Point;
  dropoff: Point;
  paymentMethod: string;
  sortKey: string;
}

export function requestRide(request: RideRequest, change: Change): Decision {
  const { rider } = request;
  if (rider.status !== 'ACTIVE') return refuse('rider-inactive', `rider ${rider.id} is ${rider.status} and may not request rides`);
  const ride: Ride = {
    id: request.id,
    version: 1,
    riderId: rider.id,
    rider: riderRef(rider),
    status: 'REQUESTED',
    pickup: request.pickup,
    dropoff: request.dropoff,
    paymentMethod: request.paymentMethod,
    history: [{ status: 'REQUESTED', at: change.at, cause: change.cause }],
    createdAt: change.at,
    updatedAt: change.at,
    sortKey: request.sortKey,
  };
  return changed(ride, [
    {
      type: 'ride.requested',
      payload: {
        rideId: ride.id,
        rider: ride.rider,
        pickup: ride.pickup,
        dropoff: ride.dropoff,
        paymentMethod: ride.paymentMethod,
        requestedAt: ride.createdAt,
      },
    },
  ]);
}

/** driver.assigned: REQUESTED → DRIVER_ASSIGNED; a late one (already confirmed) only fills in a driver still unknown. */
export function assignDriver(ride: Ride, driver: PersonRef, change: Change): Decision {
  if (isTerminal(ride.status)) return terminalRefusal(ride, 'a driver assignment');
  if (ride.status === 'REQUESTED') return changed(moved(ride, 'DRIVER_ASSIGNED', change, { driver }));
  if (ride.driver === undefined) return changed(touched(ride, change, { driver }));
  return refuse('already-recorded', `ride ${ride.id} already has driver ${ride.driver.id}`);
}

/** fare.calculated: the quote is kept whatever the ride's status or end, once. */
export function recordFare(ride: Ride, fare: Money, change: Change): Decision {
  if (ride.fare !== undefined) return refuse('already-recorded', `ride ${ride.id} already has a fare`);
  return changed(touched(ride, change, { fare }));
}

export interface Authorization {
  driver: PersonRef;
  fare: Money;
}

/** payment.authorized: REQUESTED or DRIVER_ASSIGNED → CONFIRMED; the payload's driver covers a driver.assigned not seen yet. */
export function confirmRide(ride: Ride, authorization: Authorization, change: Change): Decision {
  if (isTerminal(ride.status)) return terminalRefusal(ride, 'a payment authorization');
  if (ride.status === 'CONFIRMED') return refuse('already-recorded', `ride ${ride.id} is already CONFIRMED`);
  const driver = ride.driver ?? authorization.driver;
  const fare = ride.fare ?? authorization.fare;
  const next = moved(ride, 'CONFIRMED', change, { driver });
  return changed(next, [
    {
      type: 'ride.confirmed',
      payload: { rideId: next.id, rider: next.rider, driver, pickup: next.pickup, dropoff: next.dropoff, fare },
    },
  ]);
}

function cancelled(ride: Ride, reason: CancelReason, change: Change): Decision {
  const next = moved(ride, 'CANCELLED', change, { reason });
  const payload: PayloadOf<'ride.cancelled'> = { rideId: next.id, rider: next.rider, reason };
  if (next.driver !== undefined) payload.driver = next.driver;
  return changed(next, [{ type: 'ride.cancelled', payload }]);
}

/** payment.declined: REQUESTED or DRIVER_ASSIGNED → CANCELLED (payment_declined). */
export function declinePayment(ride: Ride, change: Change, driver?: PersonRef): Decision {
  if (isTerminal(ride.status)) return terminalRefusal(ride, 'a payment decline');
  if (ride.status === 'CONFIRMED') return refuse('wrong-status', `ride ${ride.id} is CONFIRMED; a decline for it is stale`);
  // A decline may overtake driver.assigned: its payload names the driver, so the cancellation still tells them.
  return cancelled(ride.driver === undefined && driver !== undefined ? { ...ride, driver } : ride, 'payment_declined', change);
}

/** driver.unavailable: REQUESTED → REJECTED. */
export function rejectRide(ride: Ride, reason: string, change: Change): Decision {
  if (isTerminal(ride.status)) return terminalRefusal(ride, 'a driver shortage');
  if (ride.status !== 'REQUESTED') return refuse('wrong-status', `ride ${ride.id} is ${ride.status}; it already has a driver`);
  const next = moved(ride, 'REJECTED', change, { reason });
  return changed(next, [{ type: 'ride.rejected', payload: { rideId: next.id, rider: next.rider, reason } }]);
}

/** The rider cancels: any non-terminal status → CANCELLED (rider_cancelled). */
export function cancelByRider(ride: Ride, change: Change): Decision {
  if (isTerminal(ride.status)) return refuse('terminal', `ride ${ride.id} is ${ride.status} and can no longer be cancelled`);
  return cancelled(ride, 'rider_cancelled', change);
}

/** The rider completes: only CONFIRMED → COMPLETED. */
export function completeRide(ride: Ride, change: Change): Decision {
  if (ride.status !== 'CONFIRMED' || ride.driver === undefined) {
    return refuse(
      isTerminal(ride.status) ? 'terminal' : 'wrong-status',
      `ride ${ride.id} is ${ride.status}; only a CONFIRMED ride can be completed`,
    );
  }
  const next = moved(ride, 'COMPLETED', change);
  const payload: PayloadOf<'ride.completed'> = { rideId: next.id, rider: next.rider, driver: ride.driver, completedAt: change.at };
  if (next.fare !== undefined) payload.fare = next.fare;
  return changed(next, [{ type: 'ride.completed', payload }]);
}

/** payment.captured: what the rider paid for the trip, once per ride (one payment per ride), whatever the status. */
export function recordCapture(ride: Ride, paid: CapturedPayment, change: Change): Decision {
  if (ride.paid !== undefined) {
    return refuse('already-recorded', `ride ${ride.id} already recorded payment ${ride.paid.paymentId}`);
  }
  return changed(touched(ride, change, { paid }));
}

export interface RatingInput {
  stars: number;
  comment?: string;
}

/** The rider rates a COMPLETED ride, once. */
export function rateRide(ride: Ride, input: RatingInput, change: Change): Decision {
  if (ride.status !== 'COMPLETED' || ride.driver === undefined) {
    return refuse('wrong-status', `ride ${ride.id} is ${ride.status}; only a COMPLETED ride can be rated`);
  }
  if (ride.rating !== undefined) return refuse('already-recorded', `ride ${ride.id} is already rated`);
  const rating: RideRating = { stars: input.stars, ratedAt: change.at };
  if (input.comment !== undefined) rating.comment = input.comment;
  const next = touched(ride, change, { rating });
  return changed(next, [
    { type: 'ride.rated', payload: { rideId: next.id, riderId: next.riderId, driverId: ride.driver.id, stars: input.stars } },
  ]);
}
