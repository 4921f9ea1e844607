// payment.declined → release the driver reserved for that ride → driver.released (payment_declined).
import { transactional, type EventHandler } from '@ridehail/shared';
import { cancelTrip } from './cancelTrip';
import type { HandlerDeps } from './deps';

export function releaseDriverOnPaymentDeclined(deps: HandlerDeps): EventHandler<'payment.declined'> {
  return transactional<'payment.declined'>(async (p, uow, ctx) => {
    await cancelTrip(uow, deps, p.rideId, 'payment_declined', ctx.envelope.occurredAt, ctx.logger);
  });
}
