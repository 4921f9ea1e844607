// ride.requested → fare.calculated, once per ride (DESIGN §2 step 2b): pure arithmetic, so one inbox transaction.
import { transactional, type EventHandler } from '@ridehail/shared';
import { quoteOnRideRequested } from '../domain/payment';
import * as ledgers from '../store/ledgers';
import { isoNow, type PaymentHandlerDeps } from './deps';

export function quoteFareOnRideRequested(deps: Pick<PaymentHandlerDeps, 'tariff' | 'now'>): EventHandler<'ride.requested'> {
  return transactional(async (payload, uow, ctx) => {
    const ledger = await ledgers.ofRide(uow.tx, payload.rideId);
    const quoted = quoteOnRideRequested(ledger, payload.rideId, payload, deps.tariff, isoNow(deps));
    if (quoted === null) {
      ctx.logger.info('ride already quoted; nothing to emit', { rideId: payload.rideId });
      return;
    }
    await ledgers.save(uow.tx, quoted.ledger, ledger !== null);
    await uow.emit(quoted.event.type, quoted.event.payload);
  });
}
