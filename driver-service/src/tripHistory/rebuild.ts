// Recomputes every driver's trip-history summary from the trip records, reports each drift, and repairs it when asked.
import { type Drift, type Logger, type RebuildOptions, type Store } from '@ridehail/shared';
import { emptySummary, recompute, totalsOf, withTotals, type SummaryTotals } from '../domain/summary';
import * as drivers from '../store/drivers';
import * as trips from '../store/trips';

const fields: { field: string; of: (t: SummaryTotals) => unknown }[] = [
  { field: 'completed', of: (t) => t.completed },
  { field: 'earnings.amount', of: (t) => t.earnings },
  { field: 'rating.count', of: (t) => t.ratingCount },
  { field: 'rating.sum', of: (t) => t.ratingSum },
  { field: 'lastTripAt', of: (t) => t.lastTripAt },
];

/** Invariant 6: every stored summary equals its recomputation. Each driver is checked (and repaired) in its own unit of work. */
export async function rebuildDriverTripHistory(store: Store, logger: Logger, options: RebuildOptions): Promise<Drift[]> {
  const people = await drivers.everyoneWithHistory(store);

  const drifts: Drift[] = [];
  for (const person of people) {
    const found = await store.run(async (tx) => {
      const driven = await trips.ofDriver(tx, person);
      // The summary as readers see it: the stored document and the ledger rows not folded into it yet.
      const { summary: stored, replace } = await drivers.summaryForRepair(tx, person, options.currency ?? 'EUR');
      // A missing summary reads as zeros (that is what GET answers), so only non-zero totals make it a drift.
      const current = stored ?? emptySummary(person, options.currency ?? firstCurrency(driven) ?? 'EUR');
      const recomputed = recompute(person, driven);
      const storedTotals = totalsOf(current);
      const diff = fields
        .filter(({ of }) => of(storedTotals) !== of(recomputed))
        .map(({ field, of }) => ({ person, field, stored: of(storedTotals), recomputed: of(recomputed) }));
      if (diff.length > 0 && options.repair) {
        await replace(withTotals(current, recomputed));
      }
      return diff;
    });
    for (const d of found) {
      logger.warn(
        `trip-history drift: driver ${d.person} ${d.field} stored ${JSON.stringify(d.stored)}, recomputed ${JSON.stringify(d.recomputed)}${options.repair ? ' (repaired)' : ''}`,
        { drift: d },
      );
    }
    drifts.push(...found);
  }
  logger.info(
    `driver trip history: ${people.length} driver(s) checked, ${drifts.length} drift(s) found${options.repair ? ' and repaired' : ''}`,
  );
  return drifts;
}

function firstCurrency(trips: { earned?: { currency: string } }[]): string | undefined {
  return trips.find((t) => t.earned !== undefined)?.earned?.currency;
}
