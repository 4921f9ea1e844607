// ride.cancelled → payment.voided (DESIGN §2 compensation); with no payment yet, the cancellation is remembered instead.
import type { EventHandler } from '@ridehail/shared';
import { paymentIdFor, planCancellation, rememberCancellation, voidPayment, type CancellationPlan } from '../domain/payment';
import * as ledgers from '../store/ledgers';
import * as payments from '../store/payments';
import { StalePlanError, untilPlanHolds } from './decideAgain';
import { isoNow, type PaymentHandlerDeps } from './deps';

const samePlan = (a: CancellationPlan, b: CancellationPlan) =>
  a.kind === b.kind && (a.kind !== 'void' || (b.kind === 'void' && a.payment.version === b.payment.version));

export function voidPaymentOnRideCancelled(deps: PaymentHandlerDeps): EventHandler<'ride.cancelled'> {
  return async (ctx) => {
    const { rideId } = ctx.envelope.payload;
    const paymentId = paymentIdFor(rideId);
    await untilPlanHolds(async () => {
      const plan = planCancellation(await payments.byId(ctx.store, paymentId));
      if (plan.kind === 'void') await deps.gateway.void({ rideId, paymentId });

      const outcome = await ctx.once(async (uow) => {
        // One operation at a time: a MongoDB session runs a transaction's operations in sequence.
        const ledger = await ledgers.ofRide(uow.tx, rideId);
        const payment = await payments.byId(uow.tx, paymentId);
        const fresh = planCancellation(payment);
        if (!samePlan(plan, fresh)) throw new StalePlanError(`${plan.kind} became ${fresh.kind}`);
        const at = isoNow(deps);
        // Remembered in every case, so an authorization racing this message finds the ride cancelled at its commit.
        const remembered = rememberCancellation(ledger, rideId, at);
        if (remembered !== null) await ledgers.save(uow.tx, remembered, ledger !== null);
        if (fresh.kind !== 'void') return remembered === null ? 'already known' : 'remembered';
        const voided = voidPayment(fresh.payment, at);
        if (voided === null) return 'already known';
        await payments.save(uow.tx, voided.payment);
        await uow.emit(voided.event.type, voided.event.payload);
        return 'voided';
      });
      if (outcome.duplicate) ctx.logger.info('duplicate message acknowledged without effect');
      else ctx.logger.info(`cancellation ${outcome.value}`, { rideId, paymentId });
    });
  };
}
