// The zod schemas of ride-service's answers (DESIGN §3, §9): what views.ts and the trip history write, for the OpenAPI document.
import { moneySchema, pointSchema, isoTime, type Same } from '@ridehail/shared';
import { z } from 'zod';
import { rideStatuses } from '../domain/ride';
import { riderStatuses } from '../domain/rider';
import type { SummaryTotals, TripView } from '../domain/tripHistory';
import type { RiderView, RideView } from './views';

export const personRefSchema = z.object({ id: z.string().min(1), name: z.string(), email: z.email() });

export const riderSchema = z.object({ id: z.string(), name: z.string(), email: z.email(), status: z.enum(riderStatuses) });

export const historyEntrySchema = z.object({
  status: z.enum(rideStatuses),
  at: isoTime,
  cause: z.string().describe('the id of the message or HTTP request that made the change'),
});

export const rideRatingSchema = z.object({ stars: z.number().int().min(1).max(5), comment: z.string().optional(), ratedAt: isoTime });

export const rideSchema = z.object({
  id: z.string(),
  riderId: z.string(),
  status: z.enum(rideStatuses),
  pickup: pointSchema,
  dropoff: pointSchema,
  paymentMethod: z.string(),
  driver: personRefSchema.optional(),
  fare: moneySchema.optional().describe('the quote, in minor units'),
  reason: z.string().optional().describe('why the ride was rejected or cancelled'),
  paid: moneySchema.optional().describe('what was captured at completion'),
  rating: rideRatingSchema.optional(),
  history: z.array(historyEntrySchema),
  createdAt: isoTime,
  updatedAt: isoTime,
  endedAt: isoTime.optional(),
});

/** 202 to POST /rides: the ride, with its id also as `rideId`. */
export const rideAcceptedSchema = rideSchema.extend({ rideId: z.string() });

export const rideListSchema = z.array(rideSchema);

export const ratingResponseSchema = z.object({
  rideId: z.string(),
  stars: z.number().int().min(1).max(5),
  comment: z.string().optional(),
  ratedAt: isoTime,
});

export const riderTotalsSchema = z.object({
  requested: z.number().int().nonnegative(),
  completed: z.number().int().nonnegative(),
  cancelled: z.number().int().nonnegative(),
  rejected: z.number().int().nonnegative(),
  spent: moneySchema,
  lastTripAt: isoTime.nullable(),
});

export const riderTripSchema = z.object({
  rideId: z.string(),
  status: z.enum(rideStatuses),
  requestedAt: isoTime,
  endedAt: isoTime.optional(),
  driverId: z.string().optional(),
  fare: moneySchema.optional(),
  paid: moneySchema.optional(),
  rating: z.number().int().min(1).max(5).optional(),
});

export const riderTripsSchema = z.object({
  riderId: z.string(),
  summary: riderTotalsSchema,
  trips: z.array(riderTripSchema),
  next: z.string().optional().describe('pass as `before` for the next (older) page; absent on the last page'),
});

// The documented shapes and the views the handlers write must not drift apart: each must be assignable to the other.
const _shapes: [
  Same<z.output<typeof riderSchema>, RiderView>,
  Same<z.output<typeof rideSchema>, RideView>,
  Same<z.output<typeof riderTotalsSchema>, SummaryTotals>,
  Same<z.output<typeof riderTripSchema>, TripView>,
] = [true, true, true, true];
void _shapes;
