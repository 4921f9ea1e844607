// The rider's actions on one ride (cancel, complete, rate): 404 unknown, 409 when the ride refuses, else the change and its events.
import { ConflictError, emitter, NotFoundError } from '@ridehail/shared';
import {
  cancelByRider,
  completeRide as decideComplete,
  rateRide as decideRating,
  type Change,
  type Decision,
  type Ride,
} from '../domain/ride';
import * as rides from '../store/rides';
import { clockOf, type UseCaseDeps } from './deps';

/** Loads the ride, lets the domain decide, saves it with its rider's ledger row and emits, in one unit of work. */
async function act(deps: UseCaseDeps, rideId: string, cause: string, decide: (ride: Ride, change: Change) => Decision): Promise<Ride> {
  return deps.store.run(
    async (tx) => {
      const ride = await rides.byId(tx, rideId);
      if (ride === null) throw new NotFoundError('ride', rideId);
      const decision = decide(ride, { at: clockOf(deps)().toISOString(), cause });
      if (!decision.changed) throw new ConflictError(decision.detail, { rideId, status: ride.status });
      const saved = await rides.save(tx, ride, decision.ride, deps.currency);
      const emit = emitter(tx, { source: deps.service, correlationId: rideId });
      for (const event of decision.events) await emit(event.type, event.payload);
      return saved;
    },
    { maxAttempts: rides.RIDE_WRITE_ATTEMPTS },
  );
}

export const cancelRide = (deps: UseCaseDeps, rideId: string, cause: string): Promise<Ride> => act(deps, rideId, cause, cancelByRider);

export const completeRide = (deps: UseCaseDeps, rideId: string, cause: string): Promise<Ride> => act(deps, rideId, cause, decideComplete);

export const rateRide = (deps: UseCaseDeps, rideId: string, rating: { stars: number; comment?: string }, cause: string): Promise<Ride> =>
  act(deps, rideId, cause, (ride, change) => decideRating(ride, rating, change));
