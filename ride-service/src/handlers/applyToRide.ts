// The shape every ride-service handler shares: load the ride, let the domain decide, save ride and summary, emit, in the inbox transaction.
import type { EventType, MessageContext, UnitOfWork } from '@ridehail/shared';
import type { Change, Decision, Ride } from '../domain/ride';
import * as rides from '../store/rides';

export interface HandlerDeps {
  /** The currency of the rider summaries (CURRENCY). */
  currency: string;
  /** The clock of history entries; tests pass a fixed one. */
  now?: () => Date;
}

/** A message about a ride this service does not hold: retried (then parked), since rides are stored before any event names them. */
export class UnknownRideError extends Error {
  constructor(rideId: string, type: string) {
    super(`${type} for ride ${rideId}, which ride-service does not know`);
    this.name = 'UnknownRideError';
  }
}

export async function applyToRide<T extends EventType>(
  deps: HandlerDeps,
  uow: UnitOfWork,
  ctx: MessageContext<T>,
  rideId: string,
  decide: (ride: Ride, change: Change) => Decision,
): Promise<void> {
  const ride = await rides.byId(uow.tx, rideId);
  if (ride === null) throw new UnknownRideError(rideId, ctx.envelope.type);
  const change: Change = { at: (deps.now ?? (() => new Date()))().toISOString(), cause: ctx.envelope.id };
  const decision = decide(ride, change);
  if (!decision.changed) {
    // A late, repeated or stale fact: acknowledged without effect, by design (DESIGN §2).
    ctx.logger.info(`no change: ${decision.detail}`, { rideId, refusal: decision.refusal });
    return;
  }
  await rides.save(uow.tx, ride, decision.ride, deps.currency);
  for (const event of decision.events) await uow.emit(event.type, event.payload);
}
