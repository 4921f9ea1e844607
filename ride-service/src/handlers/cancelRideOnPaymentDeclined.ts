// payment.declined → the ride is CANCELLED (payment_declined) and ride.cancelled is emitted (the saga's compensation).
import { transactional, type EventHandler } from '@ridehail/shared';
import { declinePayment } from '../domain/ride';
import { applyToRide, type HandlerDeps } from './applyToRide';

export function cancelRideOnPaymentDeclined(deps: HandlerDeps): EventHandler<'payment.declined'> {
  return transactional((payload, uow, ctx) =>
    applyToRide(deps, uow, ctx, payload.rideId, (ride, change) => declinePayment(ride, change, payload.driver)),
  );
}
