// ride.rated → the trip's `rating` and the driver's rating totals (one rating per ride; kept if the trip is not here yet).
import { transactional, type EventHandler } from '@ridehail/shared';
import { recordRating } from '../domain/trip';
import * as trips from '../store/trips';
import type { HandlerDeps } from './deps';

export function recordRatingOnRideRated(deps: HandlerDeps): EventHandler<'ride.rated'> {
  return transactional<'ride.rated'>(async (p, uow, ctx) => {
    const trip = await trips.ofRide(uow.tx, p.rideId);
    const next = recordRating(trip, p.rideId, p.stars, ctx.envelope.occurredAt);
    if (next === null) {
      ctx.logger.info(`ride ${p.rideId} is already rated; nothing to do`);
      return;
    }
    await trips.save(uow.tx, trip, next, deps.currency);
  });
}
