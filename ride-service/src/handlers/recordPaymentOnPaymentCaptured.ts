// payment.captured → the trip's `paid` and, through the summary, the rider's `spent`: once per ride, whatever the order.
import { transactional, type EventHandler } from '@ridehail/shared';
import { recordCapture } from '../domain/ride';
import { applyToRide, type HandlerDeps } from './applyToRide';

export function recordPaymentOnPaymentCaptured(deps: HandlerDeps): EventHandler<'payment.captured'> {
  return transactional((payload, uow, ctx) =>
    applyToRide(deps, uow, ctx, payload.rideId, (ride, change) =>
      recordCapture(
        ride,
        { paymentId: payload.paymentId, amount: payload.fare.amount, currency: payload.fare.currency, capturedAt: payload.capturedAt },
        change,
      ),
    ),
  );
}
