// The riders and their trip summaries as ride-service asks for them: one by id, registered with an empty summary, the summary as of now.
import { readerOf, readSummary, summaryInTx, type ReadSource, type Store, type Transaction } from '@ridehail/shared';
import type { Rider } from '../domain/rider';
import { emptySummary, type RiderSummary } from '../domain/tripHistory';
import { riderLedger, riders, riderSummaries } from './collections';

export function byId(source: ReadSource, riderId: string): Promise<Rider | null> {
  return readerOf(source, riders).get(riderId);
}

/** A new rider and the empty summary of its trip history, in one unit of work: the fold then only ever updates it. */
export async function register(tx: Transaction, rider: Rider, currency: string): Promise<void> {
  await tx.repo(riders).insert(rider);
  await tx.repo(riderSummaries).insert(emptySummary(rider.id, currency));
}

/** The rider's summary as readers see it (stored document plus rows not folded yet); null when none was ever made. */
export function summary(store: Store, riderId: string, currency: string): Promise<RiderSummary | null> {
  return readSummary(store, riderLedger(currency), riderId);
}

/** Everyone the rebuild checks: every rider, and whoever has a summary without a rider. */
export async function everyoneWithHistory(store: Store): Promise<string[]> {
  const people = new Set<string>();
  for (const rider of await store.read(riders).find({})) people.add(rider.id);
  for (const stored of await store.read(riderSummaries).find({})) people.add(stored.id);
  return [...people].sort();
}

/** In a repair's unit of work: the rider's summary as of it, and a way to overwrite it that leaves no row to fold again. */
export function summaryForRepair(
  tx: Transaction,
  riderId: string,
  currency: string,
): Promise<{ summary: RiderSummary | null; replace(next: RiderSummary): Promise<void> }> {
  return summaryInTx(tx, riderLedger(currency), riderId);
}
