// The zod schemas of driver-service's answers (DESIGN §3, §9): what driverJson, tripJson and summaryView write.
import { moneySchema, pointSchema, isoTime, type Same } from '@ridehail/shared';
import { z } from 'zod';
import { driverStatuses } from '../domain/driver';
import type { SummaryView } from '../domain/summary';
import { tripStatuses } from '../domain/trip';
import type { DriverJson, TripJson } from './schemas';

export const driverSchema = z.object({
  id: z.string(),
  name: z.string(),
  email: z.email(),
  status: z.enum(driverStatuses),
  location: pointSchema,
  currentRideId: z.string().optional().describe('the ride the driver is reserved for or driving'),
  createdAt: isoTime,
  updatedAt: isoTime,
});

export const driverListSchema = z.array(driverSchema);

export const driverTotalsSchema = z.object({
  completed: z.number().int().nonnegative(),
  earnings: moneySchema,
  rating: z.object({ average: z.number().min(0).max(5), count: z.number().int().nonnegative() }),
  lastTripAt: isoTime.nullable(),
});

export const driverTripSchema = z.object({
  rideId: z.string(),
  status: z.enum(tripStatuses),
  assignedAt: isoTime,
  endedAt: isoTime.optional(),
  earned: moneySchema.optional(),
  rating: z.number().int().min(1).max(5).optional(),
});

export const driverTripsSchema = z.object({
  driverId: z.string(),
  summary: driverTotalsSchema,
  trips: z.array(driverTripSchema),
  next: z.string().optional().describe('pass as `before` for the next (older) page; absent on the last page'),
});

// The documented shapes and the JSON the handlers write must not drift apart: each must be assignable to the other.
const _shapes: [
  Same<z.output<typeof driverSchema>, DriverJson>,
  Same<z.output<typeof driverTotalsSchema>, SummaryView>,
  Same<z.output<typeof driverTripSchema>, TripJson>,
] = [true, true, true];
void _shapes;
