// Points as the API speaks them ({lat,lng}) and as the store keeps them (GeoJSON [lng,lat]), and distances between them.
import { EARTH_RADIUS_2DSPHERE_KM, haversineKm } from '@ridehail/shared';
export interface LatLng {
  lat: number;
  lng: number;
}

/** A GeoJSON Point: what a 2dsphere index needs (longitude first). */
export interface GeoPoint {
  type: 'Point';
  coordinates: [number, number];
}

export function toGeoPoint(p: LatLng): GeoPoint {
  return { type: 'Point', coordinates: [p.lng, p.lat] };
}

export function fromGeoPoint(p: GeoPoint): LatLng {
  return { lat: p.coordinates[1], lng: p.coordinates[0] };
}

/** Great-circle distance in kilometres, on the Earth MongoDB's 2dsphere queries use, so "within range" means the same everywhere. */
export function distanceKm(a: LatLng, b: LatLng): number {
  return haversineKm(a, b, EARTH_RADIUS_2DSPHERE_KM);
}
