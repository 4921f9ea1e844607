// Recomputes every rider summary from the rides themselves, reports each drift and (with repair) writes the recomputation back.
import { type Drift, type Logger, type RebuildOptions, type Store } from '@ridehail/shared';
import { recomputeSummary, summaryDrifts } from '../domain/tripHistory';
import * as riders from '../store/riders';
import * as rides from '../store/rides';

export async function rebuildRiderTripHistory(store: Store, logger: Logger, options: RebuildOptions): Promise<Drift[]> {
  const currency = options.currency ?? 'EUR';
  const people = await riders.everyoneWithHistory(store);

  const drifts: Drift[] = [];
  for (const riderId of people) {
    // One transaction per rider: a trip change racing the repair moves the summary's version and the repair runs again.
    const found = await store.run(async (tx) => {
      // The summary as readers see it: the stored document and the ledger rows not folded into it yet.
      const { summary: stored, replace } = await riders.summaryForRepair(tx, riderId, currency);
      const trips = await rides.ofRider(tx, riderId);
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
  logger.info(`checked ${people.length} rider summaries: ${drifts.length} drift(s)${options.repair ? ', repaired' : ''}`);
  return drifts;
}
