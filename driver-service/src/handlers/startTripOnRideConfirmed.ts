// ride.confirmed → the trip is CONFIRMED and its driver ON_TRIP (only a driver still reserved for that ride).
import { transactional, type EventHandler } from '@ridehail/shared';
import { onTripChange, onTripGuard } from '../domain/driver';
import { confirm } from '../domain/trip';
import { drivers, rideAssignments } from '../store/collections';
import { saveTrip } from '../tripHistory/persist';
import type { HandlerDeps } from './deps';

export function startTripOnRideConfirmed(deps: HandlerDeps): EventHandler<'ride.confirmed'> {
  return transactional<'ride.confirmed'>(async (p, uow, ctx) => {
    const trip = await uow.tx.repo(rideAssignments).get(p.rideId);
    if (trip === null) {
      ctx.logger.warn(`ride ${p.rideId} was confirmed but never reserved here; nothing to do`);
      return;
    }
    const next = confirm(trip, ctx.envelope.occurredAt);
    if (next === null || next.driverId === undefined) {
      ctx.logger.info(`ride ${p.rideId} is ${trip.status} here; confirmation changes nothing`);
      return;
    }
    await saveTrip(uow.tx, trip, next, deps.currency);
    // The guard is in the update's filter: one round trip, and a driver released or moved on meanwhile is left alone.
    const onTrip = await uow.tx.repo(drivers).findOneAndUpdate(onTripGuard(next.driverId, p.rideId), onTripChange(ctx.envelope.occurredAt));
    if (onTrip === null) ctx.logger.warn(`driver ${next.driverId} is not reserved for ride ${p.rideId}; left as it is`);
  });
}
