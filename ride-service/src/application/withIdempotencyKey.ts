// The Idempotency-Key wrapper around requesting a ride: the same key and body replay the ride, another body is a 409.
import { createHash } from 'node:crypto';
import { ConflictError, DuplicateKeyError, type ReadSource } from '@ridehail/shared';
import { canonicalJson, decideKey, idempotencyId, newIdempotencyRecord, type KeyDecision } from '../domain/idempotency';
import type { Ride } from '../domain/ride';
import * as idempotencyKeys from '../store/idempotencyKeys';
import * as rides from '../store/rides';
import { clockOf, type UseCaseDeps } from './deps';
import { requestRide, requestRideIn, type RideRequest } from './requestRide';

export interface Requested {
  ride: Ride;
  /** The answer of an earlier request with the same key and body. */
  replayed: boolean;
}

function keyConflict(key: string, decision: Extract<KeyDecision, { kind: 'conflict' }>): ConflictError {
  return new ConflictError(`Idempotency-Key ${key} was already used with a different body (ride ${decision.rideId})`, {
    rideId: decision.rideId,
  });
}

async function existingRide(source: ReadSource, rideId: string): Promise<Ride> {
  const ride = await rides.byId(source, rideId);
  if (ride === null) throw new Error(`idempotency record points at ride ${rideId}, which is missing`);
  return ride;
}

/**
 * Requests a ride once per (rider, key): the key's record commits in the ride's own unit of work, so two concurrent
 * first requests with one key cannot both commit; the loser answers as the winner's replay (or 409 for another body).
 * Without a key it is the plain use case.
 */
export async function requestRideIdempotently(
  deps: UseCaseDeps,
  request: RideRequest,
  key: string | undefined,
  cause: string,
): Promise<Requested> {
  const now = clockOf(deps);
  if (key === undefined) return { ride: await requestRide(deps, request, cause), replayed: false };
  const bodyHash = createHash('sha256').update(canonicalJson(request)).digest('hex');
  const keyId = idempotencyId(request.riderId, key);
  try {
    return await deps.store.run(
      async (tx): Promise<Requested> => {
        const at = now();
        const record = await idempotencyKeys.byId(tx, keyId);
        const decision = decideKey(record, bodyHash, at);
        if (decision.kind === 'replay') return { ride: await existingRide(tx, decision.rideId), replayed: true };
        if (decision.kind === 'conflict') throw keyConflict(key, decision);
        const ride = await requestRideIn(tx, deps, request, cause, at);
        const fresh = newIdempotencyRecord({ riderId: request.riderId, key, bodyHash, rideId: ride.id, now: at });
        await idempotencyKeys.save(tx, record, fresh);
        return { ride, replayed: false };
      },
      { maxAttempts: rides.RIDE_WRITE_ATTEMPTS },
    );
  } catch (err) {
    if (!(err instanceof DuplicateKeyError)) throw err;
    // Lost the race for this key to a concurrent first request: answer as its replay (or 409 for another body).
    const winner = await idempotencyKeys.byId(deps.store, keyId);
    if (winner === null) throw err;
    const decision = decideKey(winner, bodyHash, now());
    if (decision.kind === 'conflict') throw keyConflict(key, decision);
    if (decision.kind === 'new') throw err;
    return { ride: await existingRide(deps.store, decision.rideId), replayed: true };
  }
}
