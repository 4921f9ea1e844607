// zod schemas of driver-service's HTTP edge, and the JSON shapes it answers with.
import { pointSchema, tripPageQuerySchema } from '@ridehail/shared';
import { z } from 'zod';
import { driverStatuses, initialDriverStatuses, type Driver } from '../domain/driver';
import { fromGeoPoint } from '../domain/geo';
import type { RideAssignment, TripStatus } from '../domain/trip';
import type { Money, Point } from '@ridehail/shared';

export const createDriverBody = z.object({
  name: z.string().trim().min(1).max(200),
  email: z.string().trim().pipe(z.email().max(320)),
  location: pointSchema,
  status: z.enum(initialDriverStatuses).optional(),
});

export const locationBody = pointSchema;

export const driverIdParams = z.object({ id: z.string().min(1).max(128) });

export const listDriversQuery = z.object({
  status: z.enum(driverStatuses).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export const tripsQuery = tripPageQuerySchema;

export interface DriverJson {
  id: string;
  name: string;
  email: string;
  status: Driver['status'];
  location: Point;
  currentRideId?: string;
  createdAt: string;
  updatedAt: string;
}

/** The API speaks {lat,lng} whatever the store keeps (a GeoJSON point). */
export function driverJson(d: Driver): DriverJson {
  const out: DriverJson = {
    id: d.id,
    name: d.name,
    email: d.email,
    status: d.status,
    location: fromGeoPoint(d.location),
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
  // A store may hand back a cleared field as null; the API leaves it out.
  if (typeof d.currentRideId === 'string') out.currentRideId = d.currentRideId;
  return out;
}

export interface TripJson {
  rideId: string;
  status: TripStatus;
  assignedAt: string;
  endedAt?: string;
  earned?: Money;
  rating?: number;
}

export function tripJson(t: RideAssignment): TripJson {
  const out: TripJson = { rideId: t.id, status: t.status as TripStatus, assignedAt: t.assignedAt ?? t.createdAt };
  if (typeof t.endedAt === 'string') out.endedAt = t.endedAt;
  if (t.earned) out.earned = { amount: t.earned.amount, currency: t.earned.currency };
  if (typeof t.rating === 'number') out.rating = t.rating;
  return out;
}
