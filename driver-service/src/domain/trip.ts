// The per-ride record ("trip"): decides once per ride, remembers early cancellations, and moves through the saga's steps.
import type { CancelReason, Money, ReleaseReason } from '@ridehail/shared';

/** The statuses a driver's trip shows (DESIGN §9): every reservation, ending COMPLETED or CANCELLED. */
export const tripStatuses = ['DRIVER_ASSIGNED', 'CONFIRMED', 'COMPLETED', 'CANCELLED'] as const;
export type TripStatus = (typeof tripStatuses)[number];
/**
 * PENDING: the ride was not requested here yet, but a fact about it arrived early (a capture, a rating);
 * UNAVAILABLE: requested, and no driver was in range. Neither is a trip of any driver.
 */
export type AssignmentStatus = 'PENDING' | 'UNAVAILABLE' | TripStatus;

export interface RideAssignment {
  /** The ride id: one record per ride makes "decide once per ride" a unique key. */
  id: string;
  version: number;
  status: AssignmentStatus;
  /** The driver reserved for the ride; absent when none was (not requested yet, no driver, cancelled first). */
  driverId?: string;
  /** Paging key of the driver's trip list (time of assignment, then ride id). */
  sortKey?: string;
  assignedAt?: string;
  endedAt?: string;
  cancelReason?: CancelReason;
  paymentId?: string;
  earned?: Money;
  rating?: number;
  /** The latest event time that changed this record; the driver's `lastTripAt` is the latest of these. */
  lastChangedAt: string | null;
  createdAt: string;
}

export function isTripStatus(status: AssignmentStatus): status is TripStatus {
  return (tripStatuses as readonly string[]).includes(status);
}

/** The ride holds its driver: reserved or on the way. */
export function holdsDriver(rec: RideAssignment): boolean {
  return rec.driverId !== undefined && (rec.status === 'DRIVER_ASSIGNED' || rec.status === 'CONFIRMED');
}

/** ISO-8601 UTC strings compare as text, so the later of two is the larger. */
function later(a: string | null, b: string): string {
  return a !== null && a > b ? a : b;
}

function touched(rec: RideAssignment, at: string): RideAssignment {
  return { ...rec, lastChangedAt: later(rec.lastChangedAt, at) };
}

export function pendingRecord(rideId: string, at: string): RideAssignment {
  return { id: rideId, version: 1, status: 'PENDING', lastChangedAt: null, createdAt: at };
}

/** A ride is decided once: reserved, found no driver, or was cancelled before it was requested here. */
export function isDecided(rec: RideAssignment | null): boolean {
  return rec !== null && rec.status !== 'PENDING';
}

function undecided(rec: RideAssignment | null, rideId: string, at: string): RideAssignment {
  if (isDecided(rec)) throw new Error(`ride ${rideId} was already decided (${rec?.status})`);
  return rec ?? pendingRecord(rideId, at);
}

export function assignDriver(rec: RideAssignment | null, rideId: string, driverId: string, at: string, sortKey: string): RideAssignment {
  const base = undecided(rec, rideId, at);
  return touched({ ...base, status: 'DRIVER_ASSIGNED', driverId, assignedAt: at, sortKey }, at);
}

export function markUnavailable(rec: RideAssignment | null, rideId: string, at: string): RideAssignment {
  const base = undecided(rec, rideId, at);
  return touched({ ...base, status: 'UNAVAILABLE' }, at);
}

/** DRIVER_ASSIGNED → CONFIRMED; a late confirmation of a finished ride is no change. */
export function confirm(rec: RideAssignment, at: string): RideAssignment | null {
  if (rec.status !== 'DRIVER_ASSIGNED') return null;
  return touched({ ...rec, status: 'CONFIRMED' }, at);
}

/** CONFIRMED (or DRIVER_ASSIGNED, when the confirmation is still on its way) → COMPLETED. */
export function complete(rec: RideAssignment, at: string): RideAssignment | null {
  if (!holdsDriver(rec)) return null;
  return touched({ ...rec, status: 'COMPLETED', endedAt: at }, at);
}

export function releaseReasonFor(reason: CancelReason): ReleaseReason {
  return reason === 'payment_declined' ? 'payment_declined' : 'cancelled';
}

export interface CancelOutcome {
  next: RideAssignment;
  /** The driver to free, when the ride held one. */
  release: { driverId: string; reason: ReleaseReason } | null;
}

/**
 * Cancels the ride here. A ride not requested yet is remembered as CANCELLED, so a later request reserves nothing;
 * a ride that is already over (completed, cancelled, no driver) is no change, so a second cancellation releases nothing.
 */
export function cancel(rec: RideAssignment | null, rideId: string, reason: CancelReason, at: string): CancelOutcome | null {
  if (rec === null || rec.status === 'PENDING') {
    const base = rec ?? pendingRecord(rideId, at);
    return { next: touched({ ...base, status: 'CANCELLED', cancelReason: reason, endedAt: at }, at), release: null };
  }
  if (!holdsDriver(rec) || rec.driverId === undefined) return null;
  return {
    next: touched({ ...rec, status: 'CANCELLED', cancelReason: reason, endedAt: at }, at),
    release: { driverId: rec.driverId, reason: releaseReasonFor(reason) },
  };
}

export interface Capture {
  paymentId: string;
  amount: Money;
  at: string;
}

/** Records the captured fare once per ride (a ride has one payment); an early capture waits on a PENDING record. */
export function recordCapture(rec: RideAssignment | null, rideId: string, capture: Capture): RideAssignment | null {
  const base = rec ?? pendingRecord(rideId, capture.at);
  if (base.paymentId !== undefined) return null;
  return touched({ ...base, paymentId: capture.paymentId, earned: { ...capture.amount } }, capture.at);
}

/** Records the ride's rating once; an early rating waits on a PENDING record. */
export function recordRating(rec: RideAssignment | null, rideId: string, stars: number, at: string): RideAssignment | null {
  const base = rec ?? pendingRecord(rideId, at);
  if (base.rating !== undefined) return null;
  return touched({ ...base, rating: stars }, at);
}
