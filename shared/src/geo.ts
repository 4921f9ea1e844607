// Great-circle distance (haversine), the one implementation every service and the in-memory store use.
import type { Point } from './events';

/** MongoDB's spherical Earth radius for 2dsphere queries: "within range" means the same in both store adapters. */
export const EARTH_RADIUS_2DSPHERE_KM = 6378.1;
/** The mean Earth radius of the usual haversine formula (fares). */
export const EARTH_MEAN_RADIUS_KM = 6371;

export function haversineKm(a: Point, b: Point, radiusKm: number = EARTH_MEAN_RADIUS_KM): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLng = (b.lng - a.lng) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLng / 2) ** 2;
  return 2 * radiusKm * Math.asin(Math.min(1, Math.sqrt(h)));
}
