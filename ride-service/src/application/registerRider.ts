// POST /riders: a rider and the empty summary of its trip history are born together.
import { randomUUID } from 'node:crypto';
import { newRider, type Rider, type RiderStatus } from '../domain/rider';
import * as riders from '../store/riders';
import { clockOf, type UseCaseDeps } from './deps';

export async function registerRider(deps: UseCaseDeps, input: { name: string; email: string; status: RiderStatus }): Promise<Rider> {
  const rider = newRider({ id: randomUUID(), ...input, at: clockOf(deps)().toISOString() });
  await deps.store.run((tx) => riders.register(tx, rider, deps.currency));
  return rider;
}
