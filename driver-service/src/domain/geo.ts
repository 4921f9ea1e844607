// Points as the API speaks them ({lat,lng}) and as the store keeps them (GeoJSON [lng,lat]), and distances between them.
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

/** The spherical Earth radius MongoDB's 2dsphere queries use, so "within range" means the same everywhere. */
const EARTH_RADIUS_KM = 6378.1;

/** Great-circle distance (haversine) in kilometres. */
export function distanceKm(a: LatLng, b: LatLng): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLng = (b.lng - a.lng) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLng / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}
