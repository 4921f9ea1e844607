// The driver's trip-history totals: each trip contributes a fixed amount, so totals are a sum and order never matters.
import type { Money } from '@ridehail/shared';
import { isTripStatus, type RideAssignment } from './trip';

/** What one trip adds to its driver's totals; a pure function of the trip's current state. */
export interface TripContribution {
  completed: number;
  earnings: number;
  ratingSum: number;
  ratingCount: number;
  /** Not additive: the driver's `lastTripAt` is the latest of these. */
  lastTripAt: string | null;
}

export const noContribution: TripContribution = Object.freeze({
  completed: 0,
  earnings: 0,
  ratingSum: 0,
  ratingCount: 0,
  lastTripAt: null,
});

/** The stored summary document, one per driver (id = driver id). */
export interface DriverTripSummary {
  id: string;
  version: number;
  completed: number;
  earnings: Money;
  ratingSum: number;
  ratingCount: number;
  lastTripAt: string | null;
}

export type SummaryTotals = Omit<DriverTripSummary, 'id' | 'version' | 'earnings'> & { earnings: number };

/** Only a trip with a driver counts (a record still waiting for its request, or with no driver, counts nothing). */
export function contribution(trip: RideAssignment | null): TripContribution {
  if (trip === null || trip.driverId === undefined || !isTripStatus(trip.status)) return noContribution;
  return {
    completed: trip.status === 'COMPLETED' ? 1 : 0,
    earnings: trip.earned?.amount ?? 0,
    ratingSum: trip.rating ?? 0,
    ratingCount: trip.rating === undefined ? 0 : 1,
    lastTripAt: trip.lastChangedAt,
  };
}

export function contributionTo(driverId: string, trip: RideAssignment | null): TripContribution {
  return trip !== null && trip.driverId === driverId ? contribution(trip) : noContribution;
}

export function sameContribution(a: TripContribution, b: TripContribution): boolean {
  return (
    a.completed === b.completed &&
    a.earnings === b.earnings &&
    a.ratingSum === b.ratingSum &&
    a.ratingCount === b.ratingCount &&
    a.lastTripAt === b.lastTripAt
  );
}

function latest(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return a > b ? a : b;
}

export function emptySummary(driverId: string, currency: string): DriverTripSummary {
  return { id: driverId, version: 1, completed: 0, earnings: { amount: 0, currency }, ratingSum: 0, ratingCount: 0, lastTripAt: null };
}

/** summary + contribution(after) − contribution(before); null when the trip's change does not move this driver's totals. */
export function applyTripChange(
  summary: DriverTripSummary,
  before: RideAssignment | null,
  after: RideAssignment,
): DriverTripSummary | null {
  const old = contributionTo(summary.id, before);
  const now = contributionTo(summary.id, after);
  if (sameContribution(old, now)) return null;
  return applyContribution(summary, old, now);
}

/** The summary after one trip's contribution moved from `old` to `now` (what the ledger keeps of a change). */
export function applyContribution(summary: DriverTripSummary, old: TripContribution, now: TripContribution): DriverTripSummary {
  return {
    ...summary,
    completed: summary.completed + now.completed - old.completed,
    earnings: { ...summary.earnings, amount: summary.earnings.amount + now.earnings - old.earnings },
    ratingSum: summary.ratingSum + now.ratingSum - old.ratingSum,
    ratingCount: summary.ratingCount + now.ratingCount - old.ratingCount,
    lastTripAt: latest(summary.lastTripAt, now.lastTripAt),
  };
}

/** The totals recomputed from scratch from a driver's trips: what the stored summary must equal (invariant 6). */
export function recompute(driverId: string, trips: Iterable<RideAssignment>): SummaryTotals {
  const totals: SummaryTotals = { completed: 0, earnings: 0, ratingSum: 0, ratingCount: 0, lastTripAt: null };
  for (const trip of trips) {
    const c = contributionTo(driverId, trip);
    totals.completed += c.completed;
    totals.earnings += c.earnings;
    totals.ratingSum += c.ratingSum;
    totals.ratingCount += c.ratingCount;
    totals.lastTripAt = latest(totals.lastTripAt, c.lastTripAt);
  }
  return totals;
}

export function totalsOf(summary: DriverTripSummary): SummaryTotals {
  return {
    completed: summary.completed,
    earnings: summary.earnings.amount,
    ratingSum: summary.ratingSum,
    ratingCount: summary.ratingCount,
    lastTripAt: summary.lastTripAt,
  };
}

export function withTotals(summary: DriverTripSummary, totals: SummaryTotals): DriverTripSummary {
  return { ...summary, ...totals, earnings: { ...summary.earnings, amount: totals.earnings } };
}

/** Two decimals; 0 with no ratings (DESIGN §9). */
export function averageRating(sum: number, count: number): number {
  return count === 0 ? 0 : Math.round((sum / count) * 100) / 100;
}

export interface SummaryView {
  completed: number;
  earnings: Money;
  rating: { average: number; count: number };
  lastTripAt: string | null;
}

export function summaryView(summary: DriverTripSummary): SummaryView {
  return {
    completed: summary.completed,
    earnings: { amount: summary.earnings.amount, currency: summary.earnings.currency },
    rating: { average: averageRating(summary.ratingSum, summary.ratingCount), count: summary.ratingCount },
    lastTripAt: summary.lastTripAt,
  };
}
