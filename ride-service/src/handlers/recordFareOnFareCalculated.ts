// fare.calculated → the ride keeps the quote as its `fare`, once, whatever its status.
import { transactional, type EventHandler } from '@ridehail/shared';
import { recordFare } from '../domain/ride';
import { applyToRide, type HandlerDeps } from './applyToRide';

export function recordFareOnFareCalculated(deps: HandlerDeps): EventHandler<'fare.calculated'> {
  return transactional((payload, uow, ctx) =>
    applyToRide(deps, uow, ctx, payload.rideId, (ride, change) => recordFare(ride, payload.fare, change)),
  );
}
