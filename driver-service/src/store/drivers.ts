// The drivers as driver-service's handlers, use cases and routes ask for them: reserve the nearest, start a trip, release, list.
import {
  readerOf,
  readSummary,
  summaryInTx,
  type Filter,
  type Point,
  type ReadSource,
  type Store,
  type Transaction,
} from '@ridehail/shared';
import {
  onTripChange,
  onTripGuard,
  release as released,
  reservableFilter,
  reservationFor,
  type Driver,
  type DriverStatus,
} from '../domain/driver';
import { emptySummary, type DriverTripSummary } from '../domain/summary';
import { driverLedger, drivers, driverTripSummaries } from './collections';

export function byId(source: ReadSource, driverId: string): Promise<Driver | null> {
  return readerOf(source, drivers).get(driverId);
}

/** A new driver and the empty summary of its trip history, in one unit of work: the fold then only ever updates it. */
export async function register(tx: Transaction, driver: Driver, currency: string): Promise<void> {
  await tx.repo(drivers).insert(driver);
  await tx.repo(driverTripSummaries).insert(emptySummary(driver.id, currency));
}

/** Replaces the driver at the version it was read with (ConcurrencyError when it moved meanwhile). */
export function save(tx: Transaction, driver: Driver): Promise<Driver> {
  return tx.repo(drivers).update(driver);
}

/**
 * Reserves the nearest AVAILABLE driver within `radiusKm` of the pickup for the ride, in one atomic update (MongoDB:
 * `$near` on the 2dsphere index), so two rides never get one driver. Null when no driver is in range.
 */
export function reserveNearest(tx: Transaction, pickup: Point, radiusKm: number, rideId: string, at: string): Promise<Driver | null> {
  return tx
    .repo(drivers)
    .findNearestAndUpdate(
      reservableFilter,
      { field: 'location', from: pickup, maxDistanceMeters: radiusKm * 1000 },
      reservationFor(rideId, at),
    );
}

/**
 * The driver reserved for this ride goes ON_TRIP: the guard is the update's filter, so it is one round trip and a
 * driver released or moved on meanwhile is left alone (null).
 */
export function startTrip(tx: Transaction, driverId: string, rideId: string, at: string): Promise<Driver | null> {
  return tx.repo(drivers).findOneAndUpdate(onTripGuard(driverId, rideId), onTripChange(at));
}

export type Release = { kind: 'released' } | { kind: 'missing' } | { kind: 'not-holding'; status: DriverStatus };

/** Frees the driver if it still holds this ride (optimistic: a change meanwhile makes the unit of work run again). */
export async function release(tx: Transaction, driverId: string, rideId: string, at: string): Promise<Release> {
  const repo = tx.repo(drivers);
  const driver = await repo.get(driverId);
  if (driver === null) return { kind: 'missing' };
  const next = released(driver, rideId, at);
  if (next === null) return { kind: 'not-holding', status: driver.status };
  await repo.update(next);
  return { kind: 'released' };
}

/** Newest first (creation time, then the time-ordered id), optionally of one status. */
export function page(store: Store, query: { status?: DriverStatus; limit: number }): Promise<Driver[]> {
  const filter: Filter<Driver> = query.status ? { status: query.status } : {};
  return store.read(drivers).find(filter, {
    sort: [
      { field: 'createdAt', direction: -1 },
      { field: 'id', direction: -1 },
    ],
    limit: query.limit,
  });
}

/** The driver's summary as readers see it (stored document plus rows not folded yet); null when none was ever made. */
export function summary(store: Store, driverId: string, currency: string): Promise<DriverTripSummary | null> {
  return readSummary(store, driverLedger(currency), driverId);
}

/** Everyone the rebuild checks: every driver, and whoever has a summary without a driver. */
export async function everyoneWithHistory(store: Store): Promise<string[]> {
  const people = new Set<string>();
  for (const d of await store.read(drivers).find({})) people.add(d.id);
  for (const s of await store.read(driverTripSummaries).find({})) people.add(s.id);
  return [...people].sort();
}

/** In a repair's unit of work: the driver's summary as of it, and a way to overwrite it that leaves no row to fold again. */
export function summaryForRepair(
  tx: Transaction,
  driverId: string,
  currency: string,
): Promise<{ summary: DriverTripSummary | null; replace(next: DriverTripSummary): Promise<void> }> {
  return summaryInTx(tx, driverLedger(currency), driverId);
}
