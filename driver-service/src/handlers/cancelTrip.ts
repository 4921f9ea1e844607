// The one cancellation path behind ride.cancelled and payment.declined, so whichever arrives first releases, and only once.
import type { CancelReason, Logger, UnitOfWork } from '@ridehail/shared';
import { cancel } from '../domain/trip';
import * as trips from '../store/trips';
import type { HandlerDeps } from './deps';
import { releaseHeldDriver } from './releaseHeldDriver';

export async function cancelTrip(
  uow: UnitOfWork,
  deps: HandlerDeps,
  rideId: string,
  reason: CancelReason,
  at: string,
  logger: Logger,
): Promise<void> {
  const trip = await trips.ofRide(uow.tx, rideId);
  const outcome = cancel(trip, rideId, reason, at);
  if (outcome === null) {
    logger.info(`ride ${rideId} is ${trip?.status} here; cancellation changes nothing`);
    return;
  }
  await trips.save(uow.tx, trip, outcome.next, deps.currency);
  if (outcome.release === null) {
    // Not requested here yet: remembered, so the late ride.requested reserves nothing.
    logger.info(`ride ${rideId} cancelled before it was requested here; remembered`);
    return;
  }
  const { driverId, reason: releaseReason } = outcome.release;
  if (await releaseHeldDriver(uow.tx, driverId, rideId, at, logger)) {
    await uow.emit('driver.released', { rideId, driverId, reason: releaseReason });
  }
}
