// Frees the driver a finished or cancelled ride held; a driver holding another ride is left alone.
import type { Logger, Transaction } from '@ridehail/shared';
import * as drivers from '../store/drivers';

/** Returns true when the driver was freed (and a `driver.released` is due), false when it did not hold the ride. */
export async function releaseHeldDriver(tx: Transaction, driverId: string, rideId: string, at: string, logger: Logger): Promise<boolean> {
  const outcome = await drivers.release(tx, driverId, rideId, at);
  if (outcome.kind === 'missing') logger.warn(`driver ${driverId} of ride ${rideId} no longer exists; nothing to release`);
  else if (outcome.kind === 'not-holding')
    logger.info(`driver ${driverId} does not hold ride ${rideId} (status ${outcome.status}); left as it is`);
  return outcome.kind === 'released';
}
