// ride.completed → the trip is COMPLETED and its driver AVAILABLE again → driver.released (completed).
import { transactional, type EventHandler } from '@ridehail/shared';
import { complete } from '../domain/trip';
import * as trips from '../store/trips';
import type { HandlerDeps } from './deps';
import { releaseHeldDriver } from './releaseHeldDriver';

export function releaseDriverOnRideCompleted(deps: HandlerDeps): EventHandler<'ride.completed'> {
  return transactional<'ride.completed'>(async (p, uow, ctx) => {
    const trip = await trips.ofRide(uow.tx, p.rideId);
    if (trip === null) {
      ctx.logger.warn(`ride ${p.rideId} was completed but never reserved here; nothing to do`);
      return;
    }
    const next = complete(trip, p.completedAt);
    if (next === null || next.driverId === undefined) {
      ctx.logger.info(`ride ${p.rideId} is ${trip.status} here; completion changes nothing`);
      return;
    }
    await trips.save(uow.tx, trip, next, deps.currency);
    if (await releaseHeldDriver(uow.tx, next.driverId, p.rideId, p.completedAt, ctx.logger)) {
      await uow.emit('driver.released', { rideId: p.rideId, driverId: next.driverId, reason: 'completed' });
    }
  });
}
