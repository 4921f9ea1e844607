// The fare rule: base + per-km over the haversine distance pickup → dropoff, in integer minor units.
import type { Point } from '@ridehail/shared';

export interface Tariff {
  /** Charged for every ride, in minor units (e.g. cents). */
  baseMinor: number;
  /** Charged per kilometre, in minor units. */
  perKmMinor: number;
  /** ISO 4217 code of every amount. */
  currency: string;
}

export interface Quote {
  amount: number;
  currency: string;
  /** Pickup → dropoff, rounded to the metre; the amount is computed from this very figure so anyone can check it. */
  distanceKm: number;
}

/** Mean Earth radius of the usual haversine formula. */
const EARTH_RADIUS_KM = 6371;

/** Great-circle distance in kilometres. */
export function haversineKm(a: Point, b: Point): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLng = (b.lng - a.lng) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLng / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** The same arithmetic whichever event asks for it, so the quote and the authorization always agree. */
export function quoteFare(pickup: Point, dropoff: Point, tariff: Tariff): Quote {
  const distanceKm = Math.round(haversineKm(pickup, dropoff) * 1000) / 1000;
  const amount = Math.round(tariff.baseMinor + tariff.perKmMinor * distanceKm);
  return { amount, currency: tariff.currency, distanceKm };
}

export function sameQuote(a: Quote, b: Quote): boolean {
  return a.amount === b.amount && a.currency === b.currency && a.distanceKm === b.distanceKm;
}
