// The driver aggregate: who may be reserved, and which rides may move a driver on or release it.
import type { Point } from '@ridehail/shared';
import { toGeoPoint, type GeoPoint } from './geo';

export const driverStatuses = ['AVAILABLE', 'RESERVED', 'ON_TRIP', 'OFFLINE'] as const;
export type DriverStatus = (typeof driverStatuses)[number];
/** The statuses a driver may be created with: the others are reached only through the saga. */
export const initialDriverStatuses = ['AVAILABLE', 'OFFLINE'] as const;
export type InitialDriverStatus = (typeof initialDriverStatuses)[number];

export interface Driver {
  id: string;
  version: number;
  name: string;
  email: string;
  status: DriverStatus;
  location: GeoPoint;
  /** The ride the driver is reserved for or driving; absent when the driver holds none. */
  currentRideId?: string;
  createdAt: string;
  updatedAt: string;
}

export interface NewDriver {
  id: string;
  name: string;
  email: string;
  location: Point;
  status?: InitialDriverStatus;
}

export function newDriver(input: NewDriver, at: string): Driver {
  return {
    id: input.id,
    version: 1,
    name: input.name,
    email: input.email,
    status: input.status ?? 'AVAILABLE',
    location: toGeoPoint(input.location),
    createdAt: at,
    updatedAt: at,
  };
}

/** The condition of the one atomic reservation update: only an AVAILABLE driver can be taken. */
export const reservableFilter = { status: 'AVAILABLE' } as const satisfies Partial<Driver>;

/** What the atomic reservation update writes. */
export function reservationFor(rideId: string, at: string): Pick<Driver, 'status' | 'currentRideId' | 'updatedAt'> {
  return { status: 'RESERVED', currentRideId: rideId, updatedAt: at };
}

export function holds(driver: Driver, rideId: string): boolean {
  return driver.currentRideId === rideId && (driver.status === 'RESERVED' || driver.status === 'ON_TRIP');
}

/** The guard of the one conditional update that starts a trip: only a driver RESERVED for this very ride moves. */
export function onTripGuard(driverId: string, rideId: string): Pick<Driver, 'id' | 'status' | 'currentRideId'> {
  return { id: driverId, status: 'RESERVED', currentRideId: rideId };
}

/** What that update writes. */
export function onTripChange(at: string): Pick<Driver, 'status' | 'updatedAt'> {
  return { status: 'ON_TRIP', updatedAt: at };
}

/** Frees a driver that holds this ride; a driver already freed, or holding another ride, is never touched. */
export function release(driver: Driver, rideId: string, at: string): Driver | null {
  if (!holds(driver, rideId)) return null;
  // Built without the key rather than with `undefined`: a store may persist undefined as null.
  const { currentRideId: _released, ...rest } = driver;
  return { ...rest, status: 'AVAILABLE', updatedAt: at };
}

/** A new position, in any status (DESIGN §3: moving emits nothing and changes nothing else). */
export function relocate(driver: Driver, to: Point, at: string): Driver {
  return { ...driver, location: toGeoPoint(to), updatedAt: at };
}
