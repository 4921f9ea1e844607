// Frees the driver a finished or cancelled ride held, with optimistic concurrency; a driver holding another ride is left alone.
import type { Logger, Transaction } from '@ridehail/shared';
import { release } from '../domain/driver';
import { drivers } from '../store/collections';

/** Returns true when the driver was freed (and a `driver.released` is due), false when it did not hold the ride. */
export async function releaseHeldDriver(tx: Transaction, driverId: string, rideId: string, at: string, logger: Logger): Promise<boolean> {
  const repo = tx.repo(drivers);
  const driver = await repo.get(driverId);
  if (driver === null) {
    logger.warn(`driver ${driverId} of ride ${rideId} no longer exists; nothing to release`);
    return false;
  }
  const next = release(driver, rideId, at);
  if (next === null) {
    logger.info(`driver ${driverId} does not hold ride ${rideId} (status ${driver.status}); left as it is`);
    return false;
  }
  await repo.update(next);
  return true;
}
