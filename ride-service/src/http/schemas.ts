// The zod schemas of ride-service's HTTP edge (bodies, queries, params, headers).
import { paymentMethodSchema, pointSchema } from '@ridehail/shared';
import { z } from 'zod';
import { DEFAULT_PAYMENT_METHOD, rideStatuses } from '../domain/ride';
import { riderStatuses } from '../domain/rider';

export const idParamsSchema = z.object({ id: z.string().trim().min(1).max(128) });

export const createRiderSchema = z.object({
  name: z.string().trim().min(1).max(200),
  email: z.string().trim().pipe(z.email().max(320)),
  status: z.enum(riderStatuses).default('ACTIVE'),
});

export const requestRideSchema = z.object({
  riderId: z.string().trim().min(1).max(128),
  pickup: pointSchema,
  dropoff: pointSchema,
  paymentMethod: paymentMethodSchema.default(DEFAULT_PAYMENT_METHOD),
});

/** Printable ASCII, as the IETF Idempotency-Key draft and the common APIs accept. */
export const idempotencyHeadersSchema = z.object({
  'idempotency-key': z
    .string()
    .min(1)
    .max(255)
    .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces')
    .optional(),
});

export const listRidesQuerySchema = z.object({
  riderId: z.string().trim().min(1).max(128).optional(),
  status: z.enum(rideStatuses).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export const ratingSchema = z.object({
  stars: z.number().int().min(1).max(5),
  comment: z.string().max(500).optional(),
});
