// driver.assigned → the ride records its driver and moves to DRIVER_ASSIGNED (a late one only fills in an unknown driver).
import { transactional, type EventHandler } from '@ridehail/shared';
import { assignDriver } from '../domain/ride';
import { applyToRide, type HandlerDeps } from './applyToRide';

export function recordDriverOnDriverAssigned(deps: HandlerDeps): EventHandler<'driver.assigned'> {
  return transactional((payload, uow, ctx) =>
    applyToRide(deps, uow, ctx, payload.rideId, (ride, change) => assignDriver(ride, payload.driver, change)),
  );
}
