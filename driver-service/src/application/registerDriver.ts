// POST /drivers: a driver and the empty summary of its trip history are born together.
import type { Store } from '@ridehail/shared';
import { newDriver, type Driver, type NewDriver } from '../domain/driver';
import { emptySummary } from '../domain/summary';
import { drivers, driverTripSummaries } from '../store/collections';
import { timeOrderedId } from './ids';

export async function registerDriver(deps: { store: Store; currency: string }, input: Omit<NewDriver, 'id'>): Promise<Driver> {
  const now = Date.now();
  const driver = newDriver({ id: timeOrderedId(now), ...input }, new Date(now).toISOString());
  await deps.store.run(async (tx) => {
    await tx.repo(drivers).insert(driver);
    // The summary exists from the start, so the fold only ever updates it.
    await tx.repo(driverTripSummaries).insert(emptySummary(driver.id, deps.currency));
  });
  return driver;
}
