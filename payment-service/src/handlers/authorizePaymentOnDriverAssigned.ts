// driver.assigned → payment.authorized / payment.declined (DESIGN §2 step 3): charges exactly the quote, once per ride.
import { randomUUID } from 'node:crypto';
import { ConcurrencyError, errorMessage, type EventHandler, type UnitOfWork } from '@ridehail/shared';
import {
  leaseAuthorization,
  paymentIdFor,
  planAuthorization,
  recordAuthorization,
  samePlan,
  type AuthorizationPlan,
  type GatewayAuthorization,
  type PaymentStatus,
  type RideLedger,
} from '../domain/payment';
import * as ledgers from '../store/ledgers';
import * as payments from '../store/payments';
import { StalePlanError, untilPlanHolds } from './decideAgain';
import { isoNow, type PaymentHandlerDeps } from './deps';

/** How long one delivery may hold the ride's gateway call before another may make it (a crash mid-call). */
export const DEFAULT_GATEWAY_LEASE_MS = 30_000;

/** Another delivery of this `driver.assigned` is calling the gateway right now: the message comes back after a delay. */
export class AuthorizationInProgressError extends Error {
  constructor(rideId: string, until: string) {
    super(`another delivery is authorizing ride ${rideId} (lease until ${until}); retrying after it`);
    this.name = 'AuthorizationInProgressError';
  }
}

export function authorizePaymentOnDriverAssigned(deps: PaymentHandlerDeps): EventHandler<'driver.assigned'> {
  return async (ctx) => {
    const assigned = ctx.envelope.payload;
    const paymentId = paymentIdFor(assigned.rideId);
    const holder = randomUUID();
    await untilPlanHolds(async () => {
      // 1. plan from what is committed now and, to authorize, lease the ride's gateway call in the same transaction
      const planned = await ctx.store.run(async (tx) => {
        const ledger = await ledgers.ofRide(tx, assigned.rideId);
        const plan = planAuthorization(ledger, await payments.byId(tx, paymentId), assigned, deps.tariff);
        if (plan.kind !== 'authorize') return { plan, ledger };
        const at = isoNow(deps);
        const until = new Date(Date.parse(at) + (deps.gatewayLeaseMs ?? DEFAULT_GATEWAY_LEASE_MS)).toISOString();
        const lease = leaseAuthorization(ledger, assigned.rideId, { holder, until }, at);
        if (lease.kind === 'busy') throw new AuthorizationInProgressError(assigned.rideId, lease.until);
        return { plan, ledger: await ledgers.save(tx, lease.ledger, ledger !== null) };
      });
      const { plan } = planned;
      // 2. the gateway, outside any transaction; the payment id is its idempotency key
      let result: GatewayAuthorization | undefined;
      if (plan.kind === 'authorize') {
        try {
          result = await deps.gateway.authorize({
            rideId: assigned.rideId,
            paymentId,
            idempotencyKey: paymentId,
            amount: plan.quote.amount,
            currency: plan.quote.currency,
            paymentMethod: assigned.paymentMethod,
            attempt: ctx.attempt,
          });
        } catch (err) {
          // TransientGatewayError for the flaky card: nothing is recorded and the message is retried; the lease is given
          // back first, so the retry need not wait it out.
          await releaseLease(planned.ledger);
          throw err;
        }
      } else if (plan.kind === 'cancelled') {
        // A cancelled ride is never charged; an earlier round (or a crashed delivery) may have authorized already.
        await deps.gateway.void({ rideId: assigned.rideId, paymentId });
      }

      // 3. commit with the inbox record, only if the plan still holds
      const outcome = await ctx.once(async (uow) => {
        if (plan.kind === 'authorize') {
          if (result === undefined) throw new StalePlanError('authorization planned without a gateway answer');
          return recordWithGuards(uow, planned.ledger, plan, result);
        }
        // The rare paths re-read: one operation at a time, since a MongoDB session runs a transaction's operations in sequence.
        const fresh = planAuthorization(
          await ledgers.ofRide(uow.tx, assigned.rideId),
          await payments.byId(uow.tx, paymentId),
          assigned,
          deps.tariff,
        );
        if (!samePlan(plan, fresh)) throw new StalePlanError(`${plan.kind} became ${fresh.kind}`);
        return fresh.kind;
      });
      if (outcome.duplicate) ctx.logger.info('duplicate message acknowledged without effect');
      else if (outcome.value === 'cancelled')
        ctx.logger.info('ride was cancelled before its authorization: nothing charged', { rideId: assigned.rideId });
      else if (outcome.value === 'already-decided')
        ctx.logger.info('ride already has its payment; nothing to do', { rideId: assigned.rideId });
      else ctx.logger.info(`payment ${outcome.value}`, { rideId: assigned.rideId, paymentId });
    });

    async function releaseLease(leased: RideLedger | null): Promise<void> {
      if (leased === null || leased.authorizing?.holder !== holder) return;
      const { authorizing: _given, ...rest } = leased;
      await ctx.store
        .run((tx) => ledgers.save(tx, { ...rest, updatedAt: isoNow(deps) }, true))
        .catch((err: unknown) => {
          // Not given back: it expires instead, and the retry waits for that.
          if (!(err instanceof ConcurrencyError)) ctx.logger.warn(`giving back the gateway lease failed: ${errorMessage(err)}`);
        });
    }

    /**
     * The plan's guards are in the writes, not in re-reads: the ledger is written from the version this delivery leased
     * (a cancellation that wrote it meanwhile makes that a ConcurrencyError), and the payment is inserted under the id
     * only one payment per ride can have (a DuplicateKeyError). Either way the round plans again.
     */
    async function recordWithGuards(
      uow: UnitOfWork,
      leased: RideLedger | null,
      plan: Extract<AuthorizationPlan, { kind: 'authorize' }>,
      result: GatewayAuthorization,
    ): Promise<PaymentStatus> {
      const recorded = recordAuthorization(leased, assigned, plan.quote, result, isoNow(deps));
      try {
        await ledgers.save(uow.tx, recorded.ledger, leased !== null);
      } catch (err) {
        if (err instanceof ConcurrencyError) throw new StalePlanError('the ride ledger changed during the gateway call');
        throw err;
      }
      await payments.record(uow.tx, recorded.payment);
      await uow.emit(recorded.event.type, recorded.event.payload);
      return recorded.payment.status;
    }
  };
}
