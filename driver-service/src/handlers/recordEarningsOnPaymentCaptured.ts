// payment.captured → the trip's `earned` and the driver's earnings (once per payment; kept if the trip is not here yet).
import { transactional, type EventHandler } from '@ridehail/shared';
import { recordCapture } from '../domain/trip';
import * as trips from '../store/trips';
import type { HandlerDeps } from './deps';

export function recordEarningsOnPaymentCaptured(deps: HandlerDeps): EventHandler<'payment.captured'> {
  return transactional<'payment.captured'>(async (p, uow, ctx) => {
    const trip = await trips.ofRide(uow.tx, p.rideId);
    const next = recordCapture(trip, p.rideId, {
      paymentId: p.paymentId,
      amount: p.fare,
      at: p.capturedAt,
    });
    if (next === null) {
      ctx.logger.info(`capture of ride ${p.rideId} already recorded; nothing to do`);
      return;
    }
    if (p.fare.currency !== deps.currency) {
      ctx.logger.warn(`ride ${p.rideId} captured in ${p.fare.currency}, totals are kept in ${deps.currency}`);
    }
    await trips.save(uow.tx, trip, next, deps.currency);
  });
}
