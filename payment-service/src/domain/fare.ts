// The fare rule: base + per-km over the haversine distance pickup → dropoff, in integer minor units.
import { haversineKm, type Point } from '@ridehail/shared';

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

/** The same arithmetic whichever event asks for it, so the quote and the authorization always agree. */
export function quoteFare(pickup: Point, dropoff: Point, tariff: Tariff): Quote {
  const distanceKm = Math.round(haversineKm(pickup, dropoff) * 1000) / 1000;
  const amount = Math.round(tariff.baseMinor + tariff.perKmMinor * distanceKm);
  return { amount, currency: tariff.currency, distanceKm };
}

export function sameQuote(a: Quote, b: Quote): boolean {
  return a.amount === b.amount && a.currency === b.currency && a.distanceKm === b.distanceKm;
}
