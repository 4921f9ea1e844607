// The collections driver-service owns in its `drivers` database, with the indexes its queries need.
import { defineCollection } from '@ridehail/shared';
import type { Driver } from '../domain/driver';
import type { DriverTripSummary } from '../domain/summary';
import type { RideAssignment } from '../domain/trip';

export const drivers = defineCollection<Driver>('drivers', [
  // `$near` needs it: the nearest AVAILABLE driver is found and reserved in one findOneAndUpdate.
  { fields: { location: '2dsphere' }, name: 'location_2dsphere' },
  { fields: { createdAt: -1, id: -1 }, name: 'newest_first' },
  { fields: { status: 1, createdAt: -1, id: -1 }, name: 'status_newest_first' },
]);

/** One record per ride (id = ride id): the decision taken for it, and the driver's trip when a driver was reserved. */
export const rideAssignments = defineCollection<RideAssignment>('rideAssignments', [
  { fields: { driverId: 1, sortKey: -1 }, name: 'driver_trips' },
]);

/** The driver trip-history view: one precomputed summary per driver (id = driver id). */
export const driverTripSummaries = defineCollection<DriverTripSummary>('driverTripSummaries');

export const collections = [drivers, rideAssignments, driverTripSummaries];
