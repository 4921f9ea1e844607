// payment-service's routes for the OpenAPI document: the schemas routes.ts parses with, and the shape of its answers.
import { isoTime, type Same, type ServiceApi } from '@ridehail/shared';
import { z } from 'zod';
import { paymentStatuses } from '../domain/payment';
import { idParams, listPaymentsQuery, type toPaymentView } from './routes';

/** What toPaymentView writes: an authorization attempt, at most one per ride. */
export const paymentSchema = z.object({
  id: z.string(),
  rideId: z.string(),
  riderId: z.string(),
  driverId: z.string(),
  status: z.enum(paymentStatuses),
  amount: z.number().int().nonnegative().describe('in minor units of `currency`'),
  currency: z.string().length(3),
  paymentMethod: z.string(),
  distanceKm: z.number().nonnegative(),
  authorizationId: z.string().optional().describe('the gateway’s reference (absent when declined)'),
  reason: z.string().optional().describe('why the gateway declined'),
  createdAt: isoTime,
  updatedAt: isoTime,
  authorizedAt: isoTime.optional(),
  declinedAt: isoTime.optional(),
  voidedAt: isoTime.optional(),
  capturedAt: isoTime.optional(),
});

export const paymentListSchema = z.array(paymentSchema);

// The documented shape and the view the handlers write must not drift apart: each must be assignable to the other.
const _shape: Same<z.output<typeof paymentSchema>, ReturnType<typeof toPaymentView>> = true;
void _shape;

export const paymentApi: ServiceApi = {
  description: 'Payment authorizations, at most one per ride (the fare quote is not a payment). They change over the broker only.',
  tags: [{ name: 'payments', description: 'Authorizations and what became of them' }],
  schemas: { Payment: paymentSchema, PaymentList: paymentListSchema },
  routes: [
    {
      method: 'get',
      path: '/payments',
      operationId: 'listPayments',
      summary: 'List payments',
      description: 'Newest first, at most `limit`; empty when nothing matches.',
      tag: 'payments',
      query: listPaymentsQuery,
      responses: { 200: { description: 'The payments.', body: paymentListSchema } },
    },
    {
      method: 'get',
      path: '/payments/:id',
      operationId: 'getPayment',
      summary: 'Read a payment',
      tag: 'payments',
      params: idParams,
      responses: { 200: { description: 'The payment.', body: paymentSchema } },
    },
  ],
};
