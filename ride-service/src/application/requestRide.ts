// POST /rides: the rider must exist and be ACTIVE; the ride is stored and `ride.requested` emitted in one unit of work.
import { randomUUID } from 'node:crypto';
import { AppError, emitter, NotFoundError, sortKey, type Point, type Transaction } from '@ridehail/shared';
import { requestRide as decideRequest, type Ride } from '../domain/ride';
import * as riders from '../store/riders';
import * as rides from '../store/rides';
import { clockOf, type UseCaseDeps } from './deps';

export interface RideRequest {
  riderId: string;
  pickup: Point;
  dropoff: Point;
  paymentMethod: string;
}

/** The story of one request, inside the caller's unit of work (the idempotency wrapper adds its key to the same one). */
export async function requestRideIn(tx: Transaction, deps: UseCaseDeps, request: RideRequest, cause: string, at: Date): Promise<Ride> {
  const rider = await riders.byId(tx, request.riderId);
  if (rider === null) throw new NotFoundError('rider', request.riderId);
  const id = randomUUID();
  const iso = at.toISOString();
  const decision = decideRequest(
    { id, rider, pickup: request.pickup, dropoff: request.dropoff, paymentMethod: request.paymentMethod, sortKey: sortKey(iso, id) },
    { at: iso, cause },
  );
  if (!decision.changed) throw new AppError('rider-inactive', decision.detail, { riderId: rider.id });
  const ride = await rides.save(tx, null, decision.ride, deps.currency);
  const emit = emitter(tx, { source: deps.service, correlationId: ride.id });
  for (const event of decision.events) await emit(event.type, event.payload);
  return ride;
}

export async function requestRide(deps: UseCaseDeps, request: RideRequest, cause: string): Promise<Ride> {
  const at = clockOf(deps)();
  return deps.store.run((tx) => requestRideIn(tx, deps, request, cause, at), { maxAttempts: rides.RIDE_WRITE_ATTEMPTS });
}
