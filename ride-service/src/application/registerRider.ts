// POST /riders: a rider and the empty summary of its trip history are born together.
import { randomUUID } from 'node:crypto';
import { newRider, type Rider, type RiderStatus } from '../domain/rider';
import { emptySummary } from '../domain/tripHistory';
import { riders, riderSummaries } from '../store/collections';
import { clockOf, type UseCaseDeps } from './deps';

export async function registerRider(deps: UseCaseDeps, input: { name: string; email: string; status: RiderStatus }): Promise<Rider> {
  const rider = newRider({ id: randomUUID(), ...input, at: clockOf(deps)().toISOString() });
  await deps.store.run(async (tx) => {
    await tx.repo(riders).insert(rider);
    // The summary is born with its rider, so the fold always updates an existing document.
    await tx.repo(riderSummaries).insert(emptySummary(rider.id, deps.currency));
  });
  return rider;
}
