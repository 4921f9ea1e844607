// ride.confirmed → the trip is CONFIRMED and its driver ON_TRIP (only a driver still reserved for that ride).
import { transactional, type EventHandler } from '@ridehail/shared';
import { confirm } from '../domain/trip';
import * as drivers from '../store/drivers';
import * as trips from '../store/trips';
import type { HandlerDeps } from './deps';

export function startTripOnRideConfirmed(deps: HandlerDeps): EventHandler<'ride.confirmed'> {
  return transactional<'ride.confirmed'>(async (p, uow, ctx) => {
    const trip = await trips.ofRide(uow.tx, p.rideId);
    if (trip === null) {
      ctx.logger.warn(`ride ${p.rideId} was confirmed but never reserved here; nothing to do`);
      return;
    }
    const next = confirm(trip, ctx.envelope.occurredAt);
    if (next === null || next.driverId === undefined) {
      ctx.logger.info(`ride ${p.rideId} is ${trip.status} here; confirmation changes nothing`);
      return;
    }
    await trips.save(uow.tx, trip, next, deps.currency);
    const onTrip = await drivers.startTrip(uow.tx, next.driverId, p.rideId, ctx.envelope.occurredAt);
    if (onTrip === null) ctx.logger.warn(`driver ${next.driverId} is not reserved for ride ${p.rideId}; left as it is`);
  });
}
