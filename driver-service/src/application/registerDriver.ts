// POST /drivers: a driver and the empty summary of its trip history are born together.
import type { Store } from '@ridehail/shared';
import { newDriver, type Driver, type NewDriver } from '../domain/driver';
import * as drivers from '../store/drivers';
import { timeOrderedId } from './ids';

export async function registerDriver(deps: { store: Store; currency: string }, input: Omit<NewDriver, 'id'>): Promise<Driver> {
  const now = Date.now();
  const driver = newDriver({ id: timeOrderedId(now), ...input }, new Date(now).toISOString());
  await deps.store.run((tx) => drivers.register(tx, driver, deps.currency));
  return driver;
}
