// ride.completed → payment.captured, once per payment (DESIGN §2 rider actions).
import type { EventHandler } from '@ridehail/shared';
import { capturePayment, paymentIdFor, planCapture, type CapturePlan } from '../domain/payment';
import * as payments from '../store/payments';
import { StalePlanError, untilPlanHolds } from './decideAgain';
import { isoNow, type PaymentHandlerDeps } from './deps';

const samePlan = (a: CapturePlan, b: CapturePlan) =>
  a.kind === 'capture' ? b.kind === 'capture' && a.payment.version === b.payment.version : b.kind === 'nothing' && a.why === b.why;

export function capturePaymentOnRideCompleted(deps: PaymentHandlerDeps): EventHandler<'ride.completed'> {
  return async (ctx) => {
    const { rideId } = ctx.envelope.payload;
    const paymentId = paymentIdFor(rideId);
    await untilPlanHolds(async () => {
      const plan = planCapture(await payments.byId(ctx.store, paymentId));
      const captured =
        plan.kind === 'capture'
          ? await deps.gateway.capture({ rideId, paymentId, amount: plan.payment.amount, currency: plan.payment.currency })
          : undefined;

      const outcome = await ctx.once(async (uow) => {
        const fresh = planCapture(await payments.byId(uow.tx, paymentId));
        if (!samePlan(plan, fresh)) throw new StalePlanError(`${plan.kind} became ${fresh.kind}`);
        if (fresh.kind === 'nothing') return fresh.why;
        if (captured === undefined) throw new StalePlanError('capture planned without a gateway capture');
        const done = capturePayment(fresh.payment, captured.capturedAt, isoNow(deps));
        if (done === null) return 'already-captured';
        await payments.save(uow.tx, done.payment);
        await uow.emit(done.event.type, done.event.payload);
        return 'captured';
      });
      if (outcome.duplicate) ctx.logger.info('duplicate message acknowledged without effect');
      else if (outcome.value === 'no-payment' || outcome.value === 'not-authorized') {
        // A completed ride was CONFIRMED, which needs our authorization: seeing none means lost data, worth a warning.
        ctx.logger.warn(`ride completed but nothing to capture (${outcome.value})`, { rideId, paymentId });
      } else ctx.logger.info(`payment ${outcome.value}`, { rideId, paymentId });
    });
  };
}
