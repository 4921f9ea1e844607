// The rider's trip history view: what one trip adds to its rider's totals, so a summary is the sum over trips whatever the order of changes.
import type { Money } from '@ridehail/shared';
import type { Ride, RideStatus } from './ride';

export interface RiderSummary {
  /** The rider's id: one summary per rider. */
  id: string;
  version: number;
  requested: number;
  completed: number;
  cancelled: number;
  rejected: number;
  spent: Money;
  lastTripAt: string | null;
}

/** What one trip adds to its rider's summary. */
export interface Contribution {
  requested: number;
  completed: number;
  cancelled: number;
  rejected: number;
  spent: number;
  lastTripAt: string | null;
}

const nothing: Contribution = { requested: 0, completed: 0, cancelled: 0, rejected: 0, spent: 0, lastTripAt: null };

/**
 * A pure function of the trip as it stands: counting it is "summary + contribution(new) − contribution(old)", so the
 * same fact twice (no change to the trip) adds nothing, and any order of changes ends at the same totals.
 */
export function contribution(trip: Ride | null): Contribution {
  if (trip === null) return nothing;
  return {
    requested: 1,
    completed: trip.status === 'COMPLETED' ? 1 : 0,
    cancelled: trip.status === 'CANCELLED' ? 1 : 0,
    rejected: trip.status === 'REJECTED' ? 1 : 0,
    spent: trip.paid?.amount ?? 0,
    lastTripAt: trip.updatedAt,
  };
}

function latest(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return Date.parse(b) > Date.parse(a) ? b : a;
}

export function emptySummary(riderId: string, currency: string): RiderSummary {
  return {
    id: riderId,
    version: 1,
    requested: 0,
    completed: 0,
    cancelled: 0,
    rejected: 0,
    spent: { amount: 0, currency },
    lastTripAt: null,
  };
}

/** The summary after one trip changed from `before` (null: the trip is new) to `after`; the version is the store's business. */
export function applyTripChange(summary: RiderSummary, before: Ride | null, after: Ride): RiderSummary {
  return applyContribution(summary, contribution(before), contribution(after));
}

/** The summary after one trip's contribution moved from `sub` to `add` (what the ledger keeps of a change). */
export function applyContribution(summary: RiderSummary, sub: Contribution, add: Contribution): RiderSummary {
  return {
    ...summary,
    requested: summary.requested + add.requested - sub.requested,
    completed: summary.completed + add.completed - sub.completed,
    cancelled: summary.cancelled + add.cancelled - sub.cancelled,
    rejected: summary.rejected + add.rejected - sub.rejected,
    spent: { amount: summary.spent.amount + add.spent - sub.spent, currency: summary.spent.currency },
    // Times only move forward (Ride.updatedAt never goes back), so a running maximum equals the maximum over trips.
    lastTripAt: latest(summary.lastTripAt, add.lastTripAt),
  };
}

/** The summary recomputed from scratch from every trip of the rider: what the stored one must equal (invariant 6). */
export function recomputeSummary(riderId: string, trips: Iterable<Ride>, currency: string): RiderSummary {
  let summary = emptySummary(riderId, currency);
  for (const trip of trips) summary = applyTripChange(summary, null, trip);
  return summary;
}

const summaryFields: ReadonlyArray<{ field: string; of: (s: RiderSummary) => number | string | null }> = [
  { field: 'requested', of: (s) => s.requested },
  { field: 'completed', of: (s) => s.completed },
  { field: 'cancelled', of: (s) => s.cancelled },
  { field: 'rejected', of: (s) => s.rejected },
  { field: 'spent.amount', of: (s) => s.spent.amount },
  { field: 'spent.currency', of: (s) => s.spent.currency },
  { field: 'lastTripAt', of: (s) => s.lastTripAt },
];

export interface FieldDrift {
  field: string;
  stored: unknown;
  recomputed: unknown;
}

/**
 * Where a stored summary differs from its recomputation. A missing one reads as zeros in the recomputation's currency
 * (that is what GET answers), so it drifts only when the rider has trips.
 */
export function summaryDrifts(stored: RiderSummary | null, recomputed: RiderSummary): FieldDrift[] {
  const current = stored ?? emptySummary(recomputed.id, recomputed.spent.currency);
  return summaryFields
    .filter(({ of }) => of(current) !== of(recomputed))
    .map(({ field, of }) => ({ field, stored: of(current), recomputed: of(recomputed) }));
}

export type SummaryTotals = Omit<RiderSummary, 'id' | 'version'>;

/** The summary as the API shows it. */
export function totalsOf(summary: RiderSummary): SummaryTotals {
  return {
    requested: summary.requested,
    completed: summary.completed,
    cancelled: summary.cancelled,
    rejected: summary.rejected,
    spent: { amount: summary.spent.amount, currency: summary.spent.currency },
    lastTripAt: summary.lastTripAt,
  };
}

export interface TripView {
  rideId: string;
  status: RideStatus;
  requestedAt: string;
  endedAt?: string;
  driverId?: string;
  fare?: Money;
  paid?: Money;
  rating?: number;
}

/** One line of the rider's trip list, read straight from the ride. */
export function tripOf(ride: Ride): TripView {
  const view: TripView = { rideId: ride.id, status: ride.status, requestedAt: ride.createdAt };
  if (ride.endedAt !== undefined) view.endedAt = ride.endedAt;
  if (ride.driver !== undefined) view.driverId = ride.driver.id;
  if (ride.fare !== undefined) view.fare = { amount: ride.fare.amount, currency: ride.fare.currency };
  if (ride.paid !== undefined) view.paid = { amount: ride.paid.amount, currency: ride.paid.currency };
  if (ride.rating !== undefined) view.rating = ride.rating.stars;
  return view;
}
