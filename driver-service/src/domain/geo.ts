// Points as the API and events speak them (shared `Point`) and as the store keeps them (GeoJSON [lng,lat]); distances.
import { EARTH_RADIUS_2DSPHERE_KM, haversineKm, type Point } from '@ridehail/shared';

/** A GeoJSON Point: what a 2dsphere index needs (longitude first). */
export interface GeoPoint {
  type: 'Point';
  coordinates: [number, number];
}

export function toGeoPoint(p: Point): GeoPoint {
  return { type: 'Point', coordinates: [p.lng, p.lat] };
}

export function fromGeoPoint(p: GeoPoint): Point {
  return { lat: p.coordinates[1], lng: p.coordinates[0] };
}

/** Great-circle distance in kilometres, on the Earth MongoDB's 2dsphere queries use, so "within range" means the same everywhere. */
export function distanceKm(a: Point, b: Point): number {
  return haversineKm(a, b, EARTH_RADIUS_2DSPHERE_KM);
}
