// Ride routes: parse, call the use case, respond — request (with Idempotency-Key), read, list, cancel, complete and rate.
import { NotFoundError, parseBody, parseHeaders, parseParams, parseQuery, requestId } from '@ridehail/shared';
import type { Response, Router } from 'express';
import { cancelRide, completeRide, rateRide } from '../application/riderActions';
import { requestRideIdempotently } from '../application/withIdempotencyKey';
import type { Ride } from '../domain/ride';
import * as rides from '../store/rides';
import type { RideRouteDeps } from './deps';
import { idParamsSchema, idempotencyHeadersSchema, listRidesQuerySchema, ratingSchema, requestRideSchema } from './schemas';
import { rideView } from './views';

function sendAccepted(res: Response, ride: Ride, replayed: boolean): void {
  res.status(202).location(`/rides/${encodeURIComponent(ride.id)}`);
  if (replayed) res.setHeader('Idempotent-Replayed', 'true');
  res.json({ rideId: ride.id, ...rideView(ride) });
}

/** 202 with the ride as it is now: the change is committed, its consequences are on their way. */
function sendChanged(res: Response, ride: Ride): void {
  res
    .status(202)
    .location(`/rides/${encodeURIComponent(ride.id)}`)
    .json(rideView(ride));
}

export function mountRideRoutes(router: Router, deps: RideRouteDeps): void {
  const { store } = deps;

  router.post('/rides', async (req, res) => {
    const body = parseBody(requestRideSchema, req.body);
    const key = parseHeaders(idempotencyHeadersSchema, req.headers)['idempotency-key'];
    const { ride, replayed } = await requestRideIdempotently(deps, body, key, requestId(res));
    sendAccepted(res, ride, replayed);
  });

  router.get('/rides', async (req, res) => {
    const query = parseQuery(listRidesQuerySchema, req.query);
    const found = await rides.page(store, query);
    res.json(found.map(rideView));
  });

  router.get('/rides/:id', async (req, res) => {
    const { id } = parseParams(idParamsSchema, req.params);
    const ride = await rides.byId(store, id);
    if (ride === null) throw new NotFoundError('ride', id);
    res.json(rideView(ride));
  });

  router.post('/rides/:id/cancel', async (req, res) => {
    const { id } = parseParams(idParamsSchema, req.params);
    sendChanged(res, await cancelRide(deps, id, requestId(res)));
  });

  router.post('/rides/:id/complete', async (req, res) => {
    const { id } = parseParams(idParamsSchema, req.params);
    sendChanged(res, await completeRide(deps, id, requestId(res)));
  });

  router.post('/rides/:id/rating', async (req, res) => {
    const { id } = parseParams(idParamsSchema, req.params);
    const body = parseBody(ratingSchema, req.body);
    const ride = await rateRide(deps, id, body, requestId(res));
    const rating = ride.rating;
    if (rating === undefined) throw new Error(`ride ${id} was rated but holds no rating`);
    res.status(201).json({
      rideId: ride.id,
      stars: rating.stars,
      ...(rating.comment !== undefined ? { comment: rating.comment } : {}),
      ratedAt: rating.ratedAt,
    });
  });
}
