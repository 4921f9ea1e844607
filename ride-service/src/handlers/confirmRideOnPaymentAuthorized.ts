// payment.authorized → the ride is CONFIRMED (with the payload's driver if driver.assigned has not arrived yet) and ride.confirmed is emitted.
import { transactional, type EventHandler } from '@ridehail/shared';
import { confirmRide } from '../domain/ride';
import { applyToRide, type HandlerDeps } from './applyToRide';

export function confirmRideOnPaymentAuthorized(deps: HandlerDeps): EventHandler<'payment.authorized'> {
  return transactional((payload, uow, ctx) =>
    applyToRide(deps, uow, ctx, payload.rideId, (ride, change) =>
      confirmRide(ride, { driver: payload.driver, fare: payload.fare }, change),
    ),
  );
}
