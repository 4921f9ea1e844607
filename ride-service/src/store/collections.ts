// ride-service's collections in its `rides` database, with the indexes its queries use.
import { defineCollection, defineSummaryLedger, type SummaryLedger } from '@ridehail/shared';
import type { IdempotencyRecord } from '../domain/idempotency';
import type { Ride } from '../domain/ride';
import type { Rider } from '../domain/rider';
import { applyContribution, emptySummary, type Contribution, type RiderSummary } from '../domain/tripHistory';

export const riders = defineCollection<Rider>('riders');

export const rides = defineCollection<Ride>('rides', [
  // The rider's trip list and GET /rides?riderId=: newest first by sortKey, keyset-paged.
  { fields: { riderId: 1, sortKey: -1 }, name: 'rider_trips' },
  { fields: { status: 1, sortKey: -1 }, name: 'status_newest' },
  { fields: { sortKey: -1 }, name: 'newest' },
]);

/** One stored summary per rider (id = riderId): the trip history view, read in one document read. */
export const riderSummaries = defineCollection<RiderSummary>('riderSummaries');

const ledgers = new Map<string, SummaryLedger<RiderSummary, Contribution>>();

/**
 * The rider summaries' ledger: each change of a ride adds one row in the ride's transaction, folded into the summary
 * shortly after, so a rider's rides in flight never contend on the summary (DESIGN §9). `currency` is that of a summary
 * the fold has to create (riders get theirs at POST /riders).
 */
export function riderLedger(currency: string): SummaryLedger<RiderSummary, Contribution> {
  let ledger = ledgers.get(currency);
  if (!ledger) {
    ledger = defineSummaryLedger<RiderSummary, Contribution>({
      summaries: riderSummaries,
      empty: (riderId) => emptySummary(riderId, currency),
      apply: applyContribution,
    });
    ledgers.set(currency, ledger);
  }
  return ledger;
}

export const idempotencyKeys = defineCollection<IdempotencyRecord>('idempotencyKeys', [
  // Keys are kept at least 24 h: the record says until when, and MongoDB's TTL monitor removes it after.
  { fields: { expiresAt: 1 }, expireAfterSeconds: 0, name: 'expires' },
]);

export const rideCollections = [riders, rides, riderSummaries, idempotencyKeys];
