// driver.unavailable → the ride is REJECTED and ride.rejected is emitted.
import { transactional, type EventHandler } from '@ridehail/shared';
import { rejectRide } from '../domain/ride';
import { applyToRide, type HandlerDeps } from './applyToRide';

export function rejectRideOnDriverUnavailable(deps: HandlerDeps): EventHandler<'driver.unavailable'> {
  return transactional((payload, uow, ctx) =>
    applyToRide(deps, uow, ctx, payload.rideId, (ride, change) => rejectRide(ride, payload.reason, change)),
  );
}
