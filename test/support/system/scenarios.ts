// The saga scenarios of DESIGN §2 as runnable checks: the demo prints them, the e2e lane asserts them.
import { waitFor, type Point } from '@ridehail/shared';
import { metricValue, type SagaApi } from './api';
import {
  driverIdOf,
  type DriverView,
  type NotificationView,
  type PaymentView,
  type RideStatus,
  type RideView,
  type RiderView,
} from './http';
import type { Tap } from './tap';

export interface ScenarioContext {
  api: SagaApi;
  /** When given, each scenario also checks that the expected events went over the broker. */
  tap?: Tap;
  /** Progress lines while sagas run (status changes, actions). */
  progress?: (scenario: string, line: string) => void;
  /** How long to wait for each expected condition. */
  timeoutMs?: number;
}

export interface ScenarioResult {
  key: string;
  title: string;
  expected: string;
  rideId: string;
  riderId: string;
  /** ms since epoch of the POST /rides that started it. */
  startedAt: number;
  /** ms from the request until the expected status was reached (or the wait gave up). */
  tookMs: number;
  ok: boolean;
  problems: string[];
  ride?: RideView;
  driver?: DriverView;
  payments: PaymentView[];
  notifications: NotificationView[];
  /** Extra facts worth printing (e.g. retries of the flaky payment). */
  notes: string[];
}

export interface World {
  center: Point;
  place: string;
  rider: RiderView;
  drivers: DriverView[];
  /** A point with no driver within the search radius. */
  nowhere: Point;
}

const earthKm = 6371;
export function distanceKm(a: Point, b: Point): number {
  const rad = (d: number) => (d * Math.PI) / 180;
  const dLat = rad(b.lat - a.lat);
  const dLng = rad(b.lng - a.lng);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLng / 2) ** 2;
  return 2 * earthKm * Math.asin(Math.sqrt(h));
}

/** A point `km` away from `from` towards the north-east. */
export function offset(from: Point, kmNorth: number, kmEast: number): Point {
  const lat = from.lat + kmNorth / 111.32;
  const lng = from.lng + kmEast / (111.32 * Math.cos((from.lat * Math.PI) / 180));
  return { lat: Number(lat.toFixed(6)), lng: Number(lng.toFixed(6)) };
}

const places: { name: string; at: Point }[] = [
  { name: 'Lisbon', at: { lat: 38.7223, lng: -9.1393 } },
  { name: 'Berlin', at: { lat: 52.52, lng: 13.405 } },
  { name: 'Montréal', at: { lat: 45.5019, lng: -73.5674 } },
  { name: 'Nairobi', at: { lat: -1.2921, lng: 36.8219 } },
  { name: 'Osaka', at: { lat: 34.6937, lng: 135.5023 } },
  { name: 'Valparaíso', at: { lat: -33.0472, lng: -71.6127 } },
  { name: 'Reykjavík', at: { lat: 64.1466, lng: -21.9426 } },
  { name: 'Hobart', at: { lat: -42.8821, lng: 147.3272 } },
];

/**
 * A neighbourhood no earlier run used (a random spot near a city), so drivers left AVAILABLE by earlier runs on a
 * long-lived stack are never nearer than ours; and a `nowhere` point with no driver at all within `radiusKm`.
 */
export async function pickNeighbourhood(
  api: SagaApi,
  radiusKm: number,
  suffix = Math.random(),
): Promise<{ place: string; center: Point; nowhere: Point }> {
  const existing = await api.listDrivers();
  const clear = (p: Point, km: number) => existing.every((d) => distanceKm(d.location, p) > km);
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const place = places[Math.floor((suffix * 1000 + attempt) % places.length)] ?? places[0]!;
    const center = offset(place.at, (Math.random() - 0.5) * 40, (Math.random() - 0.5) * 40);
    const nowhere = offset(center, 60 + Math.random() * 20, 60);
    if (clear(center, radiusKm * 2) && clear(nowhere, radiusKm * 3)) return { place: place.name, center, nowhere };
  }
  throw new Error('could not find a neighbourhood without drivers from earlier runs');
}

export async function seedWorld(api: SagaApi, options: { drivers: number; radiusKm: number; tag: string }): Promise<World> {
  const { place, center, nowhere } = await pickNeighbourhood(api, options.radiusKm);
  const rider = await api.createRider({ name: 'Ada Lovelace', email: `ada.${options.tag}@riders.example` });
  const names = [
    'Grace Hopper',
    'Alan Turing',
    'Edsger Dijkstra',
    'Barbara Liskov',
    'Donald Knuth',
    'Margaret Hamilton',
    'Ken Thompson',
    'Frances Allen',
  ];
  const drivers: DriverView[] = [];
  for (let i = 0; i < options.drivers; i += 1) {
    const name = names[i % names.length] ?? `Driver ${i}`;
    const email = `${name.split(' ')[0]!.toLowerCase()}.${options.tag}.${i}@drivers.example`;
    // Within 1.5 km of the centre: all of them are in range of a pickup at the centre.
    drivers.push(await api.createDriver({ name, email, location: offset(center, Math.cos(i) * 1.5, Math.sin(i) * 1.5) }));
  }
  return { center, place, rider, drivers, nowhere };
}

const terminal = new Set<RideStatus>(['COMPLETED', 'REJECTED', 'CANCELLED']);

class Scenario {
  readonly problems: string[] = [];
  readonly notes: string[] = [];
  rideId = '';
  startedAt = 0;
  reachedAt = 0;
  private lastStatus: string | undefined;

  constructor(
    readonly ctx: ScenarioContext,
    readonly key: string,
    readonly title: string,
    readonly expected: string,
    readonly rider: RiderView,
  ) {}

  get timeoutMs() {
    return this.ctx.timeoutMs ?? 15_000;
  }

  say(line: string) {
    this.ctx.progress?.(this.key, line);
  }

  async request(pickup: Point, dropoff: Point, paymentMethod?: string) {
    this.startedAt = Date.now();
    const accepted = await this.ctx.api.requestRide({ riderId: this.rider.id, pickup, dropoff, paymentMethod });
    this.rideId = accepted.rideId;
    if (accepted.status !== 'REQUESTED') this.problems.push(`POST /rides answered status ${accepted.status}, expected REQUESTED`);
    this.say(`POST /rides${paymentMethod ? ` (${paymentMethod})` : ''} → 202 ride ${this.rideId}`);
    this.lastStatus = 'REQUESTED';
  }

  /** Polls the ride until `done` holds (or a terminal status that is not wanted), printing each status change. */
  async status(wanted: RideStatus, timeoutMs = this.timeoutMs): Promise<RideView | undefined> {
    try {
      const ride = await waitFor(
        async () => {
          const r = await this.ctx.api.getRide(this.rideId);
          if (r.status !== this.lastStatus) {
            this.say(`${this.lastStatus ?? '?'} → ${r.status}  (+${Date.now() - this.startedAt} ms)`);
            this.lastStatus = r.status;
          }
          return r.status === wanted || (terminal.has(r.status) && r.status !== wanted) ? r : undefined;
        },
        { timeoutMs, intervalMs: 150, description: `ride ${this.rideId} to be ${wanted}` },
      );
      if (ride.status !== wanted) this.problems.push(`ended ${ride.status}${ride.reason ? ` (${ride.reason})` : ''}, expected ${wanted}`);
      this.reachedAt = Date.now();
      return ride;
    } catch (err) {
      this.problems.push(`${(err as Error).message} (last seen ${this.lastStatus ?? 'nothing'})`);
      this.reachedAt = Date.now();
      return undefined;
    }
  }

  /** Waits until `probe` returns a value; records a problem (not an exception) when it never does. */
  async expect<T>(description: string, probe: () => Promise<T | undefined | false>): Promise<T | undefined> {
    try {
      return await waitFor(probe, { timeoutMs: this.timeoutMs, intervalMs: 150, description });
    } catch (err) {
      this.problems.push((err as Error).message.replace(/^timed out after \d+ ms waiting for /, 'never saw: '));
      return undefined;
    }
  }

  async events(types: string[]) {
    const tap = this.ctx.tap;
    if (!tap) return;
    await this.expect(`the broker to carry ${types.join(', ')} for ride ${this.rideId}`, async () => {
      const seen = new Set(tap.forRide(this.rideId).map((m) => m.envelope.type));
      return types.every((t) => seen.has(t));
    });
  }

  async notified(recipients: string[], template: string) {
    return this.expect(`a ${template} notification (SENT or FAILED) for ${recipients.join(' and ')}`, async () => {
      const list = await this.ctx.api.listNotifications({ rideId: this.rideId });
      const mine = list.filter((n) => n.template === template && n.status !== 'PENDING');
      return recipients.every((r) => mine.some((n) => n.recipient === r)) ? mine : undefined;
    });
  }

  async payment(status: PaymentView['status'], amount?: number) {
    return this.expect(`one payment ${status}${amount !== undefined ? ` of ${amount}` : ''} for ride ${this.rideId}`, async () => {
      const list = await this.ctx.api.listPayments({ rideId: this.rideId });
      const found = list.length === 1 && list[0]?.status === status && (amount === undefined || list[0].amount === amount);
      return found ? list[0] : undefined;
    });
  }

  async noPayment() {
    // A ride without a driver is never charged: by the time it is REJECTED payment-service had nothing to authorize.
    const list = await this.ctx.api.listPayments({ rideId: this.rideId });
    if (list.length > 0) this.problems.push(`has payments ${list.map((p) => p.status).join(', ')}, expected none`);
  }

  async driverFree(driverId: string | undefined) {
    if (!driverId) return;
    // Released means "not holding this ride": a side-by-side saga may already have reserved the driver again.
    await this.expect(`driver ${driverId} to no longer hold ride ${this.rideId}`, async () => {
      const d = await this.ctx.api.getDriver(driverId);
      const holdsNothing = !d.currentRideId && d.status !== 'RESERVED' && d.status !== 'ON_TRIP';
      return d.currentRideId !== this.rideId && (holdsNothing || Boolean(d.currentRideId)) ? d : undefined;
    });
  }

  async driverOnTrip(driverId: string | undefined) {
    if (!driverId) {
      this.problems.push('the ride names no driver');
      return;
    }
    await this.expect(`driver ${driverId} to be ON_TRIP with ride ${this.rideId}`, async () => {
      const d = await this.ctx.api.getDriver(driverId);
      return d.status === 'ON_TRIP' && d.currentRideId === this.rideId ? d : undefined;
    });
  }

  async fare(): Promise<number | undefined> {
    const ride = await this.expect(`ride ${this.rideId} to carry its fare quote`, async () => {
      const r = await this.ctx.api.getRide(this.rideId);
      return r.fare ? r : undefined;
    });
    return ride?.fare?.amount;
  }

  async driverEmail(ride: RideView | undefined): Promise<string | undefined> {
    if (!ride?.driver) return undefined;
    if (typeof ride.driver !== 'string' && ride.driver.email) return ride.driver.email;
    const id = driverIdOf(ride);
    return id ? (await this.ctx.api.getDriver(id)).email : undefined;
  }

  async finish(): Promise<ScenarioResult> {
    const api = this.ctx.api;
    const ride = this.rideId ? await api.getRide(this.rideId) : undefined;
    const driverId = ride ? driverIdOf(ride) : undefined;
    return {
      key: this.key,
      title: this.title,
      expected: this.expected,
      rideId: this.rideId,
      riderId: this.rider.id,
      startedAt: this.startedAt,
      tookMs: this.reachedAt - this.startedAt,
      ok: this.problems.length === 0,
      problems: this.problems,
      ride,
      driver: driverId ? await api.getDriver(driverId) : undefined,
      payments: this.rideId ? await api.listPayments({ rideId: this.rideId }) : [],
      notifications: this.rideId ? await api.listNotifications({ rideId: this.rideId }) : [],
      notes: this.notes,
    };
  }
}

/** The same result with ride, driver, payments and notifications read again (once the system is quiet). */
export async function refreshResult(api: SagaApi, r: ScenarioResult): Promise<ScenarioResult> {
  if (!r.rideId) return r;
  const ride = await api.getRide(r.rideId);
  const driverId = driverIdOf(ride) ?? r.driver?.id;
  return {
    ...r,
    ride,
    driver: driverId ? await api.getDriver(driverId) : undefined,
    payments: await api.listPayments({ rideId: r.rideId }),
    notifications: await api.listNotifications({ rideId: r.rideId }),
  };
}

async function guarded(s: Scenario, body: () => Promise<void>): Promise<ScenarioResult> {
  try {
    await body();
  } catch (err) {
    s.problems.push(`failed: ${(err as Error).message}`);
  }
  return s.finish();
}

const dropoffOf = (w: World) => offset(w.center, 3, 2);

/** Step 1-7: a driver nearby, a card that works → CONFIRMED, driver ON_TRIP, payment AUTHORIZED for the quote, both emailed. */
export function happyPath(ctx: ScenarioContext, w: World): Promise<ScenarioResult> {
  const s = new Scenario(ctx, 'happy', 'happy path', 'CONFIRMED', w.rider);
  return guarded(s, async () => {
    await s.request(w.center, dropoffOf(w), 'pm_card_visa');
    const ride = await s.status('CONFIRMED');
    if (!ride) return;
    const fare = await s.fare();
    await s.payment('AUTHORIZED', fare);
    await s.driverOnTrip(driverIdOf(ride));
    const driverEmail = await s.driverEmail(ride);
    await s.notified([w.rider.email, ...(driverEmail ? [driverEmail] : [])], 'ride-confirmed');
    await s.events(['ride.requested', 'fare.calculated', 'driver.assigned', 'payment.authorized', 'ride.confirmed', 'notification.sent']);
  });
}

/** No driver within range → REJECTED, never charged, the rider told. */
export function noDriver(ctx: ScenarioContext, w: World): Promise<ScenarioResult> {
  const s = new Scenario(ctx, 'no-driver', 'no driver nearby', 'REJECTED', w.rider);
  return guarded(s, async () => {
    await s.request(w.nowhere, offset(w.nowhere, 2, 2), 'pm_card_visa');
    const ride = await s.status('REJECTED');
    if (!ride) return;
    await s.fare();
    await s.noPayment();
    await s.notified([w.rider.email], 'ride-rejected');
    await s.events(['ride.requested', 'driver.unavailable', 'ride.rejected', 'fare.calculated']);
  });
}

/** The card is declined → CANCELLED (payment_declined); the reserved driver is released. */
export function paymentDeclined(ctx: ScenarioContext, w: World): Promise<ScenarioResult> {
  const s = new Scenario(ctx, 'declined', 'payment declined', 'CANCELLED (payment_declined)', w.rider);
  return guarded(s, async () => {
    await s.request(w.center, dropoffOf(w), 'pm_card_declined');
    const ride = await s.status('CANCELLED');
    if (!ride) return;
    if (ride.reason !== 'payment_declined') s.problems.push(`reason is ${ride.reason ?? 'absent'}, expected payment_declined`);
    await s.payment('DECLINED');
    const declined = s.ctx.tap?.forRide(s.rideId).find((m) => m.envelope.type === 'driver.assigned');
    const payload = declined?.envelope.payload as { driver?: { id?: string; email?: string } } | undefined;
    const driverId = driverIdOf(ride) ?? payload?.driver?.id;
    await s.driverFree(driverId);
    const email = (await s.driverEmail(ride)) ?? payload?.driver?.email;
    await s.notified([w.rider.email, ...(email ? [email] : [])], 'ride-cancelled');
    await s.events(['ride.requested', 'driver.assigned', 'payment.declined', 'ride.cancelled', 'driver.released']);
  });
}

/** The gateway fails twice, then authorizes: the retry path recovers it → CONFIRMED within about 10 s. */
export function flakyPayment(ctx: ScenarioContext, w: World, metricsBefore?: number): Promise<ScenarioResult> {
  const s = new Scenario(ctx, 'flaky', 'flaky payment (retried)', 'CONFIRMED', w.rider);
  return guarded(s, async () => {
    await s.request(w.center, dropoffOf(w), 'pm_card_flaky');
    const ride = await s.status('CONFIRMED', Math.max(s.timeoutMs, 20_000));
    if (!ride) return;
    const took = s.reachedAt - s.startedAt;
    s.notes.push(`confirmed ${(took / 1000).toFixed(1)} s after the request, after the gateway failed twice`);
    if (took > 12_000) s.problems.push(`took ${(took / 1000).toFixed(1)} s, expected about 10 s at most`);
    await s.payment('AUTHORIZED', await s.fare());
    const driverEmail = await s.driverEmail(ride);
    await s.notified([w.rider.email, ...(driverEmail ? [driverEmail] : [])], 'ride-confirmed');
    if (metricsBefore !== undefined) {
      const after = metricValue(await s.ctx.api.metrics('payment'), 'messages_retried_total') ?? 0;
      s.notes.push(`payment-service messages_retried_total went from ${metricsBefore} to ${after}`);
    }
    await s.events(['driver.assigned', 'payment.authorized', 'ride.confirmed']);
  });
}

/** The rider cancels a confirmed ride → CANCELLED (rider_cancelled); the driver is released, the authorization voided. */
export function riderCancel(ctx: ScenarioContext, w: World): Promise<ScenarioResult> {
  const s = new Scenario(ctx, 'cancel', 'rider cancels', 'CANCELLED (rider_cancelled)', w.rider);
  return guarded(s, async () => {
    await s.request(w.center, dropoffOf(w), 'pm_card_visa');
    const confirmed = await s.status('CONFIRMED');
    if (!confirmed) return;
    await s.ctx.api.cancelRide(s.rideId);
    s.say('POST /rides/:id/cancel → 202');
    const ride = await s.status('CANCELLED');
    if (!ride) return;
    if (ride.reason !== 'rider_cancelled') s.problems.push(`reason is ${ride.reason ?? 'absent'}, expected rider_cancelled`);
    await s.payment('VOIDED');
    await s.driverFree(driverIdOf(confirmed));
    const email = await s.driverEmail(confirmed);
    await s.notified([w.rider.email, ...(email ? [email] : [])], 'ride-cancelled');
    await s.events(['ride.cancelled', 'payment.voided', 'driver.released']);
  });
}

/** A cancellation right after the request races the saga: whatever the order, nothing is left held or charged. */
export function immediateCancel(ctx: ScenarioContext, w: World): Promise<ScenarioResult> {
  const s = new Scenario(ctx, 'cancel-early', 'rider cancels at once', 'CANCELLED (rider_cancelled)', w.rider);
  return guarded(s, async () => {
    await s.request(w.center, dropoffOf(w), 'pm_card_visa');
    await s.ctx.api.cancelRide(s.rideId);
    s.say('POST /rides/:id/cancel → 202 (immediately)');
    const ride = await s.status('CANCELLED');
    if (!ride) return;
    await s.expect(`no AUTHORIZED payment left for ride ${s.rideId}`, async () => {
      const list = await s.ctx.api.listPayments({ rideId: s.rideId });
      return list.every((p) => p.status !== 'AUTHORIZED') ? list : undefined;
    });
    await s.expect(`no driver holding ride ${s.rideId}`, async () => {
      const drivers = await s.ctx.api.listDrivers();
      return drivers.every((d) => d.currentRideId !== s.rideId) ? drivers : undefined;
    });
  });
}

/** The rider completes the trip → COMPLETED; payment CAPTURED, driver free again, receipt sent; then a rating. */
export function completion(ctx: ScenarioContext, w: World, rating?: { stars: number; comment?: string }): Promise<ScenarioResult> {
  const s = new Scenario(ctx, 'complete', 'completed trip (+ rating)', 'COMPLETED', w.rider);
  return guarded(s, async () => {
    await s.request(w.center, dropoffOf(w), 'pm_card_visa');
    const confirmed = await s.status('CONFIRMED');
    if (!confirmed) return;
    await s.ctx.api.completeRide(s.rideId);
    s.say('POST /rides/:id/complete → 202');
    const ride = await s.status('COMPLETED');
    if (!ride) return;
    const fare = await s.fare();
    await s.payment('CAPTURED', fare);
    const driverId = driverIdOf(confirmed);
    await s.driverFree(driverId);
    await s.notified([w.rider.email], 'receipt');
    await s.events(['ride.completed', 'payment.captured', 'driver.released']);
    if (!rating || !driverId) return;
    const rated = await s.ctx.api.rateRide(s.rideId, rating);
    s.say(`POST /rides/:id/rating ${rated.stars}★ → 201`);
    await s.events(['ride.rated']);
    await s.expect(`driver ${driverId}'s trip history to count the rating`, async () => {
      const view = await s.ctx.api.driverTripsPage(driverId);
      return view.summary.rating.count >= 1 && view.trips.some((t) => t.rideId === s.rideId && t.rating === rating.stars)
        ? view
        : undefined;
    });
    await s.expect(`rider ${w.rider.id}'s trip history to show what was paid`, async () => {
      const view = await s.ctx.api.riderTripsPage(w.rider.id);
      const trip = view.trips.find((t) => t.rideId === s.rideId);
      return trip?.paid !== undefined && trip.paid !== null && view.summary.completed >= 1 ? view : undefined;
    });
  });
}

export interface CompetitionResult {
  ok: boolean;
  problems: string[];
  confirmed: RideView[];
  rejected: RideView[];
  rideIds: string[];
}

/** `requests` riders ask at once in a spot with `drivers` drivers: exactly that many are CONFIRMED, each with its own driver. */
export async function competingRequests(
  ctx: ScenarioContext,
  options: { requests: number; drivers: number; radiusKm: number; tag: string },
): Promise<CompetitionResult> {
  const api = ctx.api;
  const problems: string[] = [];
  const { center } = await pickNeighbourhood(api, options.radiusKm);
  const drivers: DriverView[] = [];
  for (let i = 0; i < options.drivers; i += 1) {
    drivers.push(
      await api.createDriver({
        name: `Racer ${i}`,
        email: `racer.${options.tag}.${i}@drivers.example`,
        location: offset(center, i * 0.2, 0.1),
      }),
    );
  }
  const riders: RiderView[] = [];
  for (let i = 0; i < options.requests; i += 1)
    riders.push(await api.createRider({ name: `Rider ${i}`, email: `rider.${options.tag}.${i}@riders.example` }));
  const accepted = await Promise.all(riders.map((r) => api.requestRide({ riderId: r.id, pickup: center, dropoff: offset(center, 2, 2) })));
  const rideIds = accepted.map((a) => a.rideId);
  ctx.progress?.('compete', `${rideIds.length} rides requested at once for ${drivers.length} drivers`);
  const rides = await waitFor(
    async () => {
      const all = await Promise.all(rideIds.map((id) => api.getRide(id)));
      return all.every((r) => r.status === 'CONFIRMED' || terminal.has(r.status)) ? all : undefined;
    },
    { timeoutMs: ctx.timeoutMs ?? 30_000, intervalMs: 100, description: `all ${rideIds.length} competing rides to settle` },
  );
  const confirmed = rides.filter((r) => r.status === 'CONFIRMED');
  const rejected = rides.filter((r) => r.status === 'REJECTED');
  if (confirmed.length !== options.drivers) problems.push(`${confirmed.length} rides CONFIRMED, expected ${options.drivers}`);
  if (rejected.length !== options.requests - options.drivers)
    problems.push(`${rejected.length} rides REJECTED, expected ${options.requests - options.drivers}`);
  const others = rides.filter((r) => r.status !== 'CONFIRMED' && r.status !== 'REJECTED');
  if (others.length > 0) problems.push(`rides ended otherwise: ${others.map((r) => `${r.id} ${r.status}`).join(', ')}`);
  const driverIds = confirmed.map((r) => driverIdOf(r));
  if (new Set(driverIds).size !== driverIds.length) problems.push(`a driver was given two rides: ${driverIds.join(', ')}`);
  for (const d of drivers) {
    const now = await api.getDriver(d.id);
    const holds = confirmed.find((r) => r.id === now.currentRideId);
    if (now.status !== 'ON_TRIP' || !holds || driverIdOf(holds) !== d.id)
      problems.push(`driver ${d.id} is ${now.status} holding ${now.currentRideId ?? 'nothing'}`);
  }
  ctx.progress?.('compete', `${confirmed.length} CONFIRMED, ${rejected.length} REJECTED`);
  return { ok: problems.length === 0, problems, confirmed, rejected, rideIds };
}
