// Typed calls to the four services' HTTP APIs (DESIGN §3, §9), shared by the demo, the audit and the e2e lane.
import type { Point } from '@ridehail/shared';
import { z } from 'zod';
import type { ServiceKey, ServiceUrls } from './services';
import {
  call,
  driverSchema,
  driverTripsSchema,
  getJson,
  notificationSchema,
  paymentSchema,
  rideAcceptedSchema,
  ratingSchema,
  request,
  riderSchema,
  riderTripsSchema,
  rideSchema,
  type DriverTripsView,
  type RideStatus,
  type RiderTripsView,
} from './http';

export interface RideRequest {
  riderId: string;
  pickup: Point;
  dropoff: Point;
  paymentMethod?: string;
}

/** Largest page the list endpoints serve (DESIGN §3). */
export const maxListLimit = 1000;

export class SagaApi {
  constructor(readonly urls: ServiceUrls) {}

  createRider(input: { name: string; email: string; status?: 'ACTIVE' | 'INACTIVE' }) {
    return call(riderSchema, 'POST', `${this.urls.ride}/riders`, { body: input, expected: 201 });
  }

  createDriver(input: { name: string; email: string; location: Point; status?: 'AVAILABLE' | 'OFFLINE' }) {
    return call(driverSchema, 'POST', `${this.urls.driver}/drivers`, { body: input, expected: 201 });
  }

  requestRide(input: RideRequest, idempotencyKey?: string) {
    const headers = idempotencyKey ? { 'idempotency-key': idempotencyKey } : undefined;
    return call(rideAcceptedSchema, 'POST', `${this.urls.ride}/rides`, { body: input, headers, expected: 202 });
  }

  getRide(id: string) {
    return getJson(rideSchema, `${this.urls.ride}/rides/${encodeURIComponent(id)}`);
  }

  listRides(query: { riderId?: string; status?: RideStatus; limit?: number } = {}) {
    return getJson(z.array(rideSchema), `${this.urls.ride}/rides${queryString(query)}`);
  }

  async cancelRide(id: string): Promise<void> {
    await call(z.unknown(), 'POST', `${this.urls.ride}/rides/${encodeURIComponent(id)}/cancel`, { expected: 202 });
  }

  async completeRide(id: string): Promise<void> {
    await call(z.unknown(), 'POST', `${this.urls.ride}/rides/${encodeURIComponent(id)}/complete`, { expected: 202 });
  }

  rateRide(id: string, input: { stars: number; comment?: string }) {
    return call(ratingSchema, 'POST', `${this.urls.ride}/rides/${encodeURIComponent(id)}/rating`, { body: input, expected: 201 });
  }

  getDriver(id: string) {
    return getJson(driverSchema, `${this.urls.driver}/drivers/${encodeURIComponent(id)}`);
  }

  listDrivers(limit = maxListLimit) {
    return getJson(z.array(driverSchema), `${this.urls.driver}/drivers${queryString({ limit })}`);
  }

  listPayments(query: { rideId?: string; limit?: number } = {}) {
    return getJson(z.array(paymentSchema), `${this.urls.payment}/payments${queryString(query)}`);
  }

  listNotifications(query: { rideId?: string; limit?: number } = {}) {
    return getJson(z.array(notificationSchema), `${this.urls.notification}/notifications${queryString(query)}`);
  }

  riderTripsPage(riderId: string, query: { limit?: number; before?: string } = {}) {
    return getJson(riderTripsSchema, `${this.urls.ride}/riders/${encodeURIComponent(riderId)}/trips${queryString(query)}`);
  }

  driverTripsPage(driverId: string, query: { limit?: number; before?: string } = {}) {
    return getJson(driverTripsSchema, `${this.urls.driver}/drivers/${encodeURIComponent(driverId)}/trips${queryString(query)}`);
  }

  /** Every trip of a rider, following `next` page by page; the summary is the first page's. */
  async allRiderTrips(riderId: string): Promise<RiderTripsView> {
    const first = await this.riderTripsPage(riderId, { limit: 100 });
    const trips = [...first.trips];
    let next = first.next ?? undefined;
    while (next) {
      const page = await this.riderTripsPage(riderId, { limit: 100, before: next });
      trips.push(...page.trips);
      next = page.next ?? undefined;
    }
    return { ...first, trips, next: undefined };
  }

  async allDriverTrips(driverId: string): Promise<DriverTripsView> {
    const first = await this.driverTripsPage(driverId, { limit: 100 });
    const trips = [...first.trips];
    let next = first.next ?? undefined;
    while (next) {
      const page = await this.driverTripsPage(driverId, { limit: 100, before: next });
      trips.push(...page.trips);
      next = page.next ?? undefined;
    }
    return { ...first, trips, next: undefined };
  }

  /** The service's Prometheus text. */
  async metrics(service: ServiceKey): Promise<string> {
    const res = await request('GET', `${this.urls[service]}/metrics`);
    if (res.status !== 200 || typeof res.body !== 'string') throw new Error(`GET ${this.urls[service]}/metrics answered ${res.status}`);
    return res.body;
  }

  /** True when GET <path> answers 200 (healthz/readyz probes); false on any error. */
  async probe(service: ServiceKey, path: '/healthz' | '/readyz', timeoutMs = 1000): Promise<boolean> {
    try {
      const res = await request('GET', `${this.urls[service]}${path}`, { timeoutMs });
      return res.status === 200;
    } catch {
      return false;
    }
  }
}

function queryString(query: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  const s = params.toString();
  return s.length > 0 ? `?${s}` : '';
}

/** Sums the samples of a metric family in Prometheus text (all label sets), or undefined when absent. */
export function metricValue(text: string, name: string): number | undefined {
  let total: number | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const value = Number(match[3]);
    if (Number.isFinite(value)) total = (total ?? 0) + value;
  }
  return total;
}
