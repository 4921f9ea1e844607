// Recomputes every rider summary from the rides themselves, reports each drift and (with repair) writes the recomputation back.
import { summaryInTx, type Drift, type Logger, type RebuildOptions, type Store } from '@ridehail/shared';
import { recomputeSummary, summaryDrifts } from '../domain/tripHistory';
import { riderLedger, riders, riderSummaries, rides } from '../store/collections';

export async function rebuildRiderTripHistory(store: Store, logger: Logger, options: RebuildOptions): Promise<Drift[]> {
  const currency = options.currency ?? 'EUR';
  const people = new Set<string>();
  for (const rider of await store.read(riders).find({})) people.add(rider.id);
  for (const summary of await store.read(riderSummaries).find({})) people.add(summary.id);

  const drifts: Drift[] = [];
  for (const riderId of [...people].sort()) {
    // One transaction per rider: a trip change racing the repair moves the summary's version and the repair runs again.
    const found = await store.run(async (tx) => {
      // The summary as readers see it: the stored document and the ledger rows not folded into it yet.
      const { summary: stored, replace } = await summaryInTx(tx, riderLedger(currency), riderId);
      const trips = await tx.repo(rides).find({ riderId });
      const recomputed = recomputeSummary(riderId, trips, stored?.spent.currency ?? currency);
      const fieldDrifts = summaryDrifts(stored, recomputed);
      if (options.repair && fieldDrifts.length > 0) await replace(recomputed);
      return fieldDrifts.map((d): Drift => ({ person: riderId, ...d }));
    });
    for (const drift of found) {
      logger.warn(`rider ${drift.person} summary drift in ${drift.field}${options.repair ? ' (repaired)' : ''}`, { ...drift });
    }
    drifts.push(...found);
  }
  logger.info(`checked ${people.size} rider summaries: ${drifts.length} drift(s)${options.repair ? ', repaired' : ''}`);
  return drifts;
}
