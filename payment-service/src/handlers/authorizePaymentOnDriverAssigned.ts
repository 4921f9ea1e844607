// driver.assigned → payment.authorized / payment.declined (DESIGN §2 step 3): charges exactly the quote, once per ride.
import type { EventHandler } from '@ridehail/shared';
import { paymentIdFor, planAuthorization, recordAuthorization, samePlan, type GatewayAuthorization } from '../domain/payment';
import { ledgersCollection, paymentsCollection } from '../store/collections';
import { StalePlanError, untilPlanHolds } from './decideAgain';
import { isoNow, type PaymentHandlerDeps } from './deps';
import { saveLedger } from './saveLedger';

export function authorizePaymentOnDriverAssigned(deps: PaymentHandlerDeps): EventHandler<'driver.assigned'> {
  return async (ctx) => {
    const assigned = ctx.envelope.payload;
    const paymentId = paymentIdFor(assigned.rideId);
    await untilPlanHolds(async () => {
      // 1. plan from what is committed now; the gateway call happens outside any transaction
      const [ledger, payment] = await Promise.all([
        ctx.store.read(ledgersCollection).get(assigned.rideId),
        ctx.store.read(paymentsCollection).get(paymentId),
      ]);
      const plan = planAuthorization(ledger, payment, assigned, deps.tariff);
      let result: GatewayAuthorization | undefined;
      if (plan.kind === 'authorize') {
        // Throws TransientGatewayError for the flaky card: nothing committed, the message is retried.
        result = await deps.gateway.authorize({
          rideId: assigned.rideId,
          paymentId,
          amount: plan.quote.amount,
          currency: plan.quote.currency,
          paymentMethod: assigned.paymentMethod,
          attempt: ctx.attempt,
        });
      } else if (plan.kind === 'cancelled') {
        // A cancelled ride is never charged; an earlier round (or a crashed delivery) may have authorized already.
        await deps.gateway.void({ rideId: assigned.rideId, paymentId });
      }

      // 2. commit with the inbox record, only if the plan still holds
      const outcome = await ctx.once(async (uow) => {
        const ledgers = uow.tx.repo(ledgersCollection);
        const payments = uow.tx.repo(paymentsCollection);
        // One operation at a time: a MongoDB session runs a transaction's operations in sequence.
        const freshLedger = await ledgers.get(assigned.rideId);
        const freshPayment = await payments.get(paymentId);
        const fresh = planAuthorization(freshLedger, freshPayment, assigned, deps.tariff);
        if (!samePlan(plan, fresh)) throw new StalePlanError(`${plan.kind} became ${fresh.kind}`);
        if (fresh.kind !== 'authorize') return fresh.kind;
        if (result === undefined) throw new StalePlanError('authorization planned without a gateway answer');
        const recorded = recordAuthorization(freshLedger, assigned, fresh.quote, result, isoNow(deps));
        // The ledger is written too, so a concurrent cancellation (which writes it) conflicts instead of slipping past.
        await saveLedger(uow.tx, recorded.ledger, freshLedger !== null);
        await payments.insert(recorded.payment);
        await uow.emit(recorded.event.type, recorded.event.payload);
        return recorded.payment.status;
      });
      if (outcome.duplicate) ctx.logger.info('duplicate message acknowledged without effect');
      else if (outcome.value === 'cancelled')
        ctx.logger.info('ride was cancelled before its authorization: nothing charged', { rideId: assigned.rideId });
      else if (outcome.value === 'already-decided')
        ctx.logger.info('ride already has its payment; nothing to do', { rideId: assigned.rideId });
      else ctx.logger.info(`payment ${outcome.value}`, { rideId: assigned.rideId, paymentId });
    });
  };
}
