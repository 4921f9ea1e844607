// ride.requested → fare.calculated, once per ride (DESIGN §2 step 2b): pure arithmetic, so one inbox transaction.
import { transactional, type EventHandler } from '@ridehail/shared';
import { quoteOnRideRequested } from '../domain/payment';
import { ledgersCollection } from '../store/collections';
import { isoNow, type PaymentHandlerDeps } from './deps';
import { saveLedger } from './saveLedger';

export function quoteFareOnRideRequested(deps: Pick<PaymentHandlerDeps, 'tariff' | 'now'>): EventHandler<'ride.requested'> {
  return transactional(async (payload, uow, ctx) => {
    const ledger = await uow.tx.repo(ledgersCollection).get(payload.rideId);
    const quoted = quoteOnRideRequested(ledger, payload.rideId, payload, deps.tariff, isoNow(deps));
    if (quoted === null) {
      ctx.logger.info('ride already quoted; nothing to emit', { rideId: payload.rideId });
      return;
    }
    await saveLedger(uow.tx, quoted.ledger, ledger !== null);
    await uow.emit(quoted.event.type, quoted.event.payload);
  });
}
