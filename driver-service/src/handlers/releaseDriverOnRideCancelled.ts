// ride.cancelled → release the driver held for that ride → driver.released (payment_declined | cancelled); remembered if early.
import { transactional, type EventHandler } from '@ridehail/shared';
import { cancelTrip } from './cancelTrip';
import type { HandlerDeps } from './deps';

export function releaseDriverOnRideCancelled(deps: HandlerDeps): EventHandler<'ride.cancelled'> {
  return transactional<'ride.cancelled'>(async (p, uow, ctx) => {
    await cancelTrip(uow, deps, p.rideId, p.reason, ctx.envelope.occurredAt, ctx.logger);
  });
}
