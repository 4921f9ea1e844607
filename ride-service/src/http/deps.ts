// What ride-service's routes need besides the runtime's store and logger.
import { emitter, type RouteDeps, type Transaction } from '@ridehail/shared';
import type { RideEvent } from '../domain/ride';

export interface RideRouteDeps extends RouteDeps {
  /** The currency of the rider summaries (CURRENCY). */
  currency: string;
  now?: () => Date;
}

export function clockOf(deps: RideRouteDeps): () => Date {
  return deps.now ?? (() => new Date());
}

/** Adds the domain's events to the outbox of `tx`; HTTP-caused events have no causation id (DESIGN §4). */
export async function emitFromRequest(tx: Transaction, deps: RideRouteDeps, rideId: string, events: RideEvent[]): Promise<void> {
  const emit = emitter(tx, { source: deps.service, correlationId: rideId });
  for (const event of events) await emit(event.type, event.payload);
}
