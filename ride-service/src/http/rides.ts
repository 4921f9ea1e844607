// Ride routes: request (with Idempotency-Key), read, list, cancel, complete and rate.
import { createHash, randomUUID } from 'node:crypto';
import {
  AppError,
  ConflictError,
  DuplicateKeyError,
  NotFoundError,
  parseBody,
  parseHeaders,
  parseParams,
  parseQuery,
  requestId,
  sortKey,
  type Filter,
} from '@ridehail/shared';
import type { Response, Router } from 'express';
import { canonicalJson, decideKey, idempotencyId, newIdempotencyRecord, type KeyDecision } from '../domain/idempotency';
import { cancelByRider, completeRide, rateRide, requestRide, type Change, type Decision, type Ride } from '../domain/ride';
import { idempotencyKeys, riders, rides } from '../store/collections';
import { RIDE_WRITE_ATTEMPTS, saveRideChange } from '../store/rideWrites';
import { clockOf, emitFromRequest, type RideRouteDeps } from './deps';
import {
  idParamsSchema,
  idempotencyHeadersSchema,
  listRidesQuerySchema,
  ratingSchema,
  requestRideSchema,
  type RideRequestBody,
} from './schemas';
import { rideView } from './views';

interface Requested {
  ride: Ride;
  replayed: boolean;
}

function bodyHashOf(body: RideRequestBody): string {
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
}

function keyConflict(key: string, decision: Extract<KeyDecision, { kind: 'conflict' }>): ConflictError {
  return new ConflictError(`Idempotency-Key ${key} was already used with a different body (ride ${decision.rideId})`, {
    rideId: decision.rideId,
  });
}

async function existingRide(repo: { get(id: string): Promise<Ride | null> }, rideId: string): Promise<Ride> {
  const ride = await repo.get(rideId);
  if (ride === null) throw new Error(`idempotency record points at ride ${rideId}, which is missing`);
  return ride;
}

function sendAccepted(res: Response, ride: Ride, replayed: boolean): void {
  res.status(202).location(`/rides/${encodeURIComponent(ride.id)}`);
  if (replayed) res.setHeader('Idempotent-Replayed', 'true');
  res.json({ rideId: ride.id, ...rideView(ride) });
}

export function mountRideRoutes(router: Router, deps: RideRouteDeps): void {
  const { store } = deps;
  const now = clockOf(deps);

  router.post('/rides', async (req, res) => {
    const body = parseBody(requestRideSchema, req.body);
    const key = parseHeaders(idempotencyHeadersSchema, req.headers)['idempotency-key'];
    const bodyHash = bodyHashOf(body);
    const cause = requestId(res);
    let outcome: Requested;
    try {
      outcome = await store.run(
        async (tx): Promise<Requested> => {
          const rider = await tx.repo(riders).get(body.riderId);
          if (rider === null) throw new NotFoundError('rider', body.riderId);
          const at = now();
          const keys = tx.repo(idempotencyKeys);
          const record = key === undefined ? null : await keys.get(idempotencyId(rider.id, key));
          if (key !== undefined) {
            const decision = decideKey(record, bodyHash, at);
            if (decision.kind === 'replay') return { ride: await existingRide(tx.repo(rides), decision.rideId), replayed: true };
            if (decision.kind === 'conflict') throw keyConflict(key, decision);
          }
          const id = randomUUID();
          const iso = at.toISOString();
          const change: Change = { at: iso, cause };
          const decision = requestRide(
            { id, rider, pickup: body.pickup, dropoff: body.dropoff, paymentMethod: body.paymentMethod, sortKey: sortKey(iso, id) },
            change,
          );
          if (!decision.changed) throw new AppError('rider-inactive', decision.detail, { riderId: rider.id });
          const ride = await saveRideChange(tx, null, decision.ride, deps.currency);
          if (key !== undefined) {
            const fresh = newIdempotencyRecord({ riderId: rider.id, key, bodyHash, rideId: ride.id, now: at });
            // The key's record commits with the ride: two racing first requests cannot both commit (one hits the key).
            if (record === null) await keys.insert(fresh);
            else await keys.update({ ...fresh, version: record.version });
          }
          await emitFromRequest(tx, deps, ride.id, decision.events);
          return { ride, replayed: false };
        },
        { maxAttempts: RIDE_WRITE_ATTEMPTS },
      );
    } catch (err) {
      if (!(err instanceof DuplicateKeyError) || key === undefined) throw err;
      // Lost the race for this key to a concurrent first request: answer as its replay (or 409 for another body).
      const winner = await store.read(idempotencyKeys).get(idempotencyId(body.riderId, key));
      if (winner === null) throw err;
      const decision = decideKey(winner, bodyHash, now());
      if (decision.kind === 'conflict') throw keyConflict(key, decision);
      if (decision.kind === 'new') throw err;
      outcome = { ride: await existingRide(store.read(rides), decision.rideId), replayed: true };
    }
    sendAccepted(res, outcome.ride, outcome.replayed);
  });

  router.get('/rides', async (req, res) => {
    const query = parseQuery(listRidesQuerySchema, req.query);
    const filter: Filter<Ride> = {};
    if (query.riderId !== undefined) filter.riderId = query.riderId;
    if (query.status !== undefined) filter.status = query.status;
    const found = await store.read(rides).find(filter, { sort: [{ field: 'sortKey', direction: -1 }], limit: query.limit });
    res.json(found.map(rideView));
  });

  router.get('/rides/:id', async (req, res) => {
    const { id } = parseParams(idParamsSchema, req.params);
    const ride = await store.read(rides).get(id);
    if (ride === null) throw new NotFoundError('ride', id);
    res.json(rideView(ride));
  });

  /** A rider action on one ride: 404 unknown, 409 when the domain refuses, else the change and its events commit together. */
  const act = async (rideId: string, cause: string, decide: (ride: Ride, change: Change) => Decision): Promise<Ride> =>
    store.run(
      async (tx) => {
        const ride = await tx.repo(rides).get(rideId);
        if (ride === null) throw new NotFoundError('ride', rideId);
        const decision = decide(ride, { at: now().toISOString(), cause });
        if (!decision.changed) throw new ConflictError(decision.detail, { rideId, status: ride.status });
        const saved = await saveRideChange(tx, ride, decision.ride, deps.currency);
        await emitFromRequest(tx, deps, rideId, decision.events);
        return saved;
      },
      { maxAttempts: RIDE_WRITE_ATTEMPTS },
    );

  router.post('/rides/:id/cancel', async (req, res) => {
    const { id } = parseParams(idParamsSchema, req.params);
    const ride = await act(id, requestId(res), cancelByRider);
    res
      .status(202)
      .location(`/rides/${encodeURIComponent(ride.id)}`)
      .json(rideView(ride));
  });

  router.post('/rides/:id/complete', async (req, res) => {
    const { id } = parseParams(idParamsSchema, req.params);
    const ride = await act(id, requestId(res), completeRide);
    res
      .status(202)
      .location(`/rides/${encodeURIComponent(ride.id)}`)
      .json(rideView(ride));
  });

  router.post('/rides/:id/rating', async (req, res) => {
    const { id } = parseParams(idParamsSchema, req.params);
    const body = parseBody(ratingSchema, req.body);
    const ride = await act(id, requestId(res), (r, change) => rateRide(r, body, change));
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
