// payment-service's HTTP API (DESIGN §3): authorizations by ride, newest first, and one by id.
import type { Router } from 'express';
import { z } from 'zod';
import { NotFoundError, parseParams, parseQuery, type RouteDeps } from '@ridehail/shared';
import type { Payment } from '../domain/payment';
import * as payments from '../store/payments';

export const listPaymentsQuery = z.object({
  rideId: z.string().min(1).max(200).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export const idParams = z.object({ id: z.string().min(1).max(200) });

/** The API view: what a payment is, without the store's bookkeeping (`version`). */
export function toPaymentView(p: Payment) {
  return {
    id: p.id,
    rideId: p.rideId,
    riderId: p.riderId,
    driverId: p.driverId,
    status: p.status,
    amount: p.amount,
    currency: p.currency,
    paymentMethod: p.paymentMethod,
    distanceKm: p.distanceKm,
    ...(p.authorizationId !== undefined ? { authorizationId: p.authorizationId } : {}),
    ...(p.reason !== undefined ? { reason: p.reason } : {}),
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
    ...(p.authorizedAt !== undefined ? { authorizedAt: p.authorizedAt } : {}),
    ...(p.declinedAt !== undefined ? { declinedAt: p.declinedAt } : {}),
    ...(p.voidedAt !== undefined ? { voidedAt: p.voidedAt } : {}),
    ...(p.capturedAt !== undefined ? { capturedAt: p.capturedAt } : {}),
  };
}

export function mountPaymentRoutes(router: Router, deps: RouteDeps): void {
  router.get('/payments', async (req, res) => {
    const query = parseQuery(listPaymentsQuery, req.query);
    const found = await payments.page(deps.store, query);
    res.json(found.map(toPaymentView));
  });

  router.get('/payments/:id', async (req, res) => {
    const { id } = parseParams(idParams, req.params);
    const payment = await payments.byId(deps.store, id);
    if (payment === null) throw new NotFoundError('payment', id);
    res.json(toPaymentView(payment));
  });
}
