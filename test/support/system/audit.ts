// The cross-service audit: reads the four services over HTTP and checks invariants 1-5 of DESIGN §2 and 6 of §9.
import { SagaApi, maxListLimit, metricValue } from './api';
import {
  HttpError,
  amountOf,
  driverIdOf,
  rideStatuses,
  type DriverTripsView,
  type DriverView,
  type NotificationView,
  type PaymentView,
  type RideView,
  type RiderTripsView,
} from './http';
import { services, type ServiceUrls } from './services';
import type { TappedMessage } from './tap';

export interface Violation {
  /** The ride concerned, when there is one (the audit's "offending rides"). */
  rideId?: string;
  detail: string;
}

export interface InvariantResult {
  id: number;
  title: string;
  held: boolean;
  /** What was looked at, e.g. "42 rides". */
  checked: string;
  violations: Violation[];
}

export interface AuditReport {
  held: boolean;
  invariants: InvariantResult[];
  counts: { rides: number; drivers: number; payments: number; notifications: number; riders: number };
  /** Sum of 2^(n-1) over the violated invariants n: the audit's exit code. */
  exitCode: number;
}

export interface AuditOptions {
  /** Messages seen on the broker (the demo's and e2e's tap): adds a check that no effect was published twice. */
  messages?: readonly TappedMessage[];
  /** Riders to check beyond those found through their rides (ride-service has no rider list). */
  riderIds?: readonly string[];
}

const activeStatuses = new Set(['DRIVER_ASSIGNED', 'CONFIRMED']);
const settledStatuses = new Set(['CONFIRMED', 'COMPLETED', 'REJECTED', 'CANCELLED']);

export const invariantTitles: Record<number, string> = {
  1: 'every ride is CONFIRMED, COMPLETED, REJECTED or CANCELLED',
  2: 'a driver holds at most one ride, and only a DRIVER_ASSIGNED/CONFIRMED one',
  3: 'CONFIRMED has one AUTHORIZED payment, COMPLETED one CAPTURED, CANCELLED/REJECTED none AUTHORIZED',
  4: 'no effect happens twice (one payment per ride, one notification per ride+recipient+template)',
  5: 'every outbox drains (outbox_pending = 0)',
  6: 'every stored trip summary equals its recomputation',
};

export async function runAudit(urls: ServiceUrls, options: AuditOptions = {}): Promise<AuditReport> {
  const api = new SagaApi(urls);
  const rides = await fetchAllRides(api);
  const rideById = new Map(rides.map((r) => [r.id, r]));
  const drivers = await api.listDrivers(maxListLimit);
  const driverById = new Map(drivers.map((d) => [d.id, d]));
  // A driver past the first page of the list is fetched by id so no ride is judged against a missing driver.
  for (const ride of rides) {
    const driverId = driverIdOf(ride);
    if (driverId && !driverById.has(driverId)) {
      const driver = await getOrUndefined(() => api.getDriver(driverId));
      if (driver) driverById.set(driver.id, driver);
    }
  }
  const payments = await fetchPerRide(rides, (q) => api.listPayments(q));
  const notifications = await fetchPerRide(rides, (q) => api.listNotifications(q));

  const riderIds = new Set<string>([...rides.map((r) => r.riderId), ...(options.riderIds ?? [])]);
  const invariants: InvariantResult[] = [
    checkSettled(rides),
    checkDriverHolds(rides, rideById, [...driverById.values()]),
    await checkPayments(api, rides, rideById, payments),
    checkNoDoubleEffects(payments, notifications, options.messages),
    await checkOutboxes(api),
    await checkSummaries(api, [...riderIds], drivers, rideById),
  ];
  const exitCode = invariants.reduce((code, inv) => (inv.held ? code : code | (1 << (inv.id - 1))), 0);
  return {
    held: exitCode === 0,
    invariants,
    counts: {
      rides: rides.length,
      drivers: driverById.size,
      payments: payments.length,
      notifications: notifications.length,
      riders: riderIds.size,
    },
    exitCode,
  };
}

async function fetchAllRides(api: SagaApi): Promise<RideView[]> {
  // One query per status so each may hold up to the list limit.
  const lists = await Promise.all(rideStatuses.map((status) => api.listRides({ status, limit: maxListLimit })));
  const truncated = lists.some((l) => l.length >= maxListLimit);
  if (truncated) process.stderr.write(`audit: some status has ${maxListLimit}+ rides; only the newest ${maxListLimit} of it are checked\n`);
  return lists.flat();
}

/** The whole list when it fits in one page, else one query per ride. */
async function fetchPerRide<T extends { rideId: string }>(
  rides: RideView[],
  list: (q: { rideId?: string; limit?: number }) => Promise<T[]>,
): Promise<T[]> {
  const all = await list({ limit: maxListLimit });
  if (all.length < maxListLimit) return all;
  const perRide: T[] = [];
  for (const ride of rides) perRide.push(...(await list({ rideId: ride.id, limit: maxListLimit })));
  return perRide;
}

async function getOrUndefined<T>(get: () => Promise<T>): Promise<T | undefined> {
  try {
    return await get();
  } catch (err) {
    if (err instanceof HttpError && err.status === 404) return undefined;
    throw err;
  }
}

function result(id: number, checked: string, violations: Violation[]): InvariantResult {
  return { id, title: invariantTitles[id] ?? `invariant ${id}`, held: violations.length === 0, checked, violations };
}

function checkSettled(rides: RideView[]): InvariantResult {
  const violations = rides
    .filter((r) => !settledStatuses.has(r.status))
    .map((r) => ({ rideId: r.id, detail: `still ${r.status} (since ${r.updatedAt})` }));
  return result(1, `${rides.length} rides`, violations);
}

function checkDriverHolds(rides: RideView[], rideById: Map<string, RideView>, drivers: DriverView[]): InvariantResult {
  const violations: Violation[] = [];
  const activeByDriver = new Map<string, RideView[]>();
  for (const ride of rides) {
    if (!activeStatuses.has(ride.status)) continue;
    const driverId = driverIdOf(ride);
    if (!driverId) {
      violations.push({ rideId: ride.id, detail: `${ride.status} without a driver` });
      continue;
    }
    activeByDriver.set(driverId, [...(activeByDriver.get(driverId) ?? []), ride]);
  }
  for (const [driverId, held] of activeByDriver) {
    if (held.length > 1) {
      for (const ride of held)
        violations.push({
          rideId: ride.id,
          detail: `driver ${driverId} is on ${held.length} active rides: ${held.map((r) => r.id).join(', ')}`,
        });
    }
  }
  const driverById = new Map(drivers.map((d) => [d.id, d]));
  for (const driver of drivers) {
    const current = driver.currentRideId ?? undefined;
    const busy = driver.status === 'RESERVED' || driver.status === 'ON_TRIP';
    if (busy && !current) violations.push({ detail: `driver ${driver.id} is ${driver.status} without a currentRideId` });
    if (!current) continue;
    if (!busy) violations.push({ rideId: current, detail: `driver ${driver.id} is ${driver.status} but still holds ride ${current}` });
    const ride = rideById.get(current);
    if (!ride) violations.push({ rideId: current, detail: `driver ${driver.id} holds ride ${current}, which ride-service does not list` });
    else if (!activeStatuses.has(ride.status))
      violations.push({ rideId: ride.id, detail: `driver ${driver.id} holds ride ${ride.id}, which is ${ride.status}` });
    else if (driverIdOf(ride) !== driver.id)
      violations.push({
        rideId: ride.id,
        detail: `driver ${driver.id} holds ride ${ride.id}, whose driver is ${driverIdOf(ride) ?? 'none'}`,
      });
  }
  for (const [driverId, held] of activeByDriver) {
    const driver = driverById.get(driverId);
    for (const ride of held) {
      if (!driver)
        violations.push({ rideId: ride.id, detail: `${ride.status} with driver ${driverId}, whom driver-service does not know` });
      else if (driver.currentRideId !== ride.id) {
        violations.push({
          rideId: ride.id,
          detail: `${ride.status} with driver ${driverId}, who holds ${driver.currentRideId ?? 'nothing'} (${driver.status})`,
        });
      }
    }
  }
  return result(2, `${drivers.length} drivers, ${rides.filter((r) => activeStatuses.has(r.status)).length} active rides`, violations);
}

async function checkPayments(
  api: SagaApi,
  rides: RideView[],
  rideById: Map<string, RideView>,
  payments: PaymentView[],
): Promise<InvariantResult> {
  const violations: Violation[] = [];
  const byRide = groupBy(payments, (p) => p.rideId);
  for (const ride of rides) {
    const mine = byRide.get(ride.id) ?? [];
    const count = (status: string) => mine.filter((p) => p.status === status).length;
    const list = mine.map((p) => `${p.id}:${p.status}`).join(', ') || 'none';
    if (ride.status === 'CONFIRMED' && count('AUTHORIZED') !== 1)
      violations.push({ rideId: ride.id, detail: `CONFIRMED with payments [${list}]` });
    if (ride.status === 'COMPLETED' && count('CAPTURED') !== 1)
      violations.push({ rideId: ride.id, detail: `COMPLETED with payments [${list}]` });
    if ((ride.status === 'CANCELLED' || ride.status === 'REJECTED') && count('AUTHORIZED') > 0) {
      violations.push({ rideId: ride.id, detail: `${ride.status} with payments [${list}] still AUTHORIZED` });
    }
    if (ride.fare && ride.status === 'CONFIRMED') {
      for (const p of mine) {
        if (p.status === 'AUTHORIZED' && (p.amount !== ride.fare.amount || p.currency !== ride.fare.currency)) {
          violations.push({
            rideId: ride.id,
            detail: `authorized ${p.amount} ${p.currency}, quoted ${ride.fare.amount} ${ride.fare.currency}`,
          });
        }
      }
    }
  }
  for (const [rideId, mine] of byRide) {
    if (rideById.has(rideId)) continue;
    const ride = await getOrUndefined(() => api.getRide(rideId));
    if (!ride)
      violations.push({
        rideId,
        detail: `payments [${mine.map((p) => `${p.id}:${p.status}`).join(', ')}] for a ride ride-service does not know`,
      });
  }
  return result(3, `${payments.length} payments of ${rides.length} rides`, violations);
}

function checkNoDoubleEffects(
  payments: PaymentView[],
  notifications: NotificationView[],
  messages: readonly TappedMessage[] | undefined,
): InvariantResult {
  const violations: Violation[] = [];
  for (const [rideId, mine] of groupBy(payments, (p) => p.rideId)) {
    if (mine.length > 1)
      violations.push({ rideId, detail: `${mine.length} payments: ${mine.map((p) => `${p.id}:${p.status}`).join(', ')}` });
  }
  for (const [key, mine] of groupBy(notifications, (n) => `${n.rideId}|${n.recipient}|${n.template}`)) {
    const [rideId, recipient, template] = key.split('|');
    if (mine.length > 1) violations.push({ rideId, detail: `${mine.length} ${template} notifications to ${recipient}` });
  }
  for (const n of notifications) {
    if (n.status === 'PENDING')
      violations.push({ rideId: n.rideId, detail: `notification ${n.id} (${n.template} to ${n.recipient}) still PENDING` });
  }
  let checked = `${payments.length} payments, ${notifications.length} notifications`;
  if (messages) {
    checked += `, ${messages.length} messages seen on the broker`;
    violations.push(...doubleEffectsOnTheBroker(messages));
  }
  return result(4, checked, violations);
}

/**
 * The same fact published twice under different message ids (a redelivered duplicate keeps its id and is fine).
 * Each key names one effect that DESIGN §2 allows once per ride.
 */
export function doubleEffectsOnTheBroker(messages: readonly TappedMessage[]): Violation[] {
  const onceKeys: Record<string, (payload: Record<string, unknown>) => string | undefined> = {
    'driver.assigned': () => 'decision',
    'driver.unavailable': () => 'decision',
    'fare.calculated': () => 'quote',
    'payment.authorized': () => 'authorization',
    'payment.declined': () => 'authorization',
    'payment.captured': () => 'capture',
    'payment.voided': () => 'void',
    'ride.confirmed': () => 'confirmed',
    'ride.rated': () => 'rated',
    'notification.sent': (p) => `sent ${String(p['recipient'])} ${String(p['template'])}`,
  };
  const ids = new Map<string, Set<string>>();
  for (const m of messages) {
    const keyOf = onceKeys[m.envelope.type];
    const payload = m.envelope.payload;
    if (!keyOf || typeof payload !== 'object' || payload === null) continue;
    const key = keyOf(payload as Record<string, unknown>);
    if (!key) continue;
    const full = `${m.envelope.correlationId}|${key}`;
    ids.set(full, (ids.get(full) ?? new Set()).add(m.envelope.id));
  }
  const violations: Violation[] = [];
  for (const [full, set] of ids) {
    if (set.size <= 1) continue;
    const [rideId, key] = full.split('|');
    violations.push({ rideId, detail: `${key} published ${set.size} times under different message ids (${[...set].join(', ')})` });
  }
  return violations;
}

async function checkOutboxes(api: SagaApi): Promise<InvariantResult> {
  const violations: Violation[] = [];
  const seen: string[] = [];
  for (const s of services) {
    const text = await api.metrics(s.key);
    const pending = metricValue(text, 'outbox_pending');
    if (pending === undefined) {
      violations.push({ detail: `${s.name}: /metrics has no outbox_pending` });
      continue;
    }
    seen.push(`${s.name} ${pending}`);
    if (pending !== 0) {
      const age = metricValue(text, 'outbox_oldest_pending_age_seconds');
      violations.push({
        detail: `${s.name}: ${pending} outbox message(s) pending${age !== undefined ? `, oldest ${age.toFixed(1)} s` : ''}`,
      });
    }
  }
  return result(5, `outbox_pending: ${seen.join(', ') || 'unreadable'}`, violations);
}

async function checkSummaries(
  api: SagaApi,
  riderIds: string[],
  drivers: DriverView[],
  rideById: Map<string, RideView>,
): Promise<InvariantResult> {
  const violations: Violation[] = [];
  for (const riderId of riderIds) {
    const view = await getOrUndefined(() => api.allRiderTrips(riderId));
    if (!view) {
      violations.push({ detail: `rider ${riderId} has rides but GET /riders/${riderId}/trips answers 404` });
      continue;
    }
    violations.push(...riderSummaryDrift(view, rideById));
  }
  for (const driver of drivers) {
    violations.push(...driverSummaryDrift(await api.allDriverTrips(driver.id)));
  }
  return result(6, `${riderIds.length} rider and ${drivers.length} driver summaries`, violations);
}

/** Differences between a rider's stored summary and the one recomputed from the trip list (and the rides themselves). */
export function riderSummaryDrift(view: RiderTripsView, rideById?: Map<string, RideView>): Violation[] {
  const { summary, trips } = view;
  const who = `rider ${view.riderId}`;
  const count = (status: string) => trips.filter((t) => t.status === status).length;
  const recomputed = {
    requested: trips.length,
    completed: count('COMPLETED'),
    cancelled: count('CANCELLED'),
    rejected: count('REJECTED'),
    spent: trips.reduce((sum, t) => sum + amountOf(t.paid), 0),
  };
  const drift: Violation[] = [];
  const compare = (field: string, stored: number, expected: number) => {
    if (stored !== expected) drift.push({ detail: `${who}: summary.${field} is ${stored}, recomputed ${expected}` });
  };
  compare('requested', summary.requested, recomputed.requested);
  compare('completed', summary.completed, recomputed.completed);
  compare('cancelled', summary.cancelled, recomputed.cancelled);
  compare('rejected', summary.rejected, recomputed.rejected);
  compare('spent.amount', summary.spent.amount, recomputed.spent);
  drift.push(
    ...lastTripAtDrift(
      who,
      summary.lastTripAt,
      trips.flatMap((t) => [t.requestedAt, t.endedAt ?? undefined]),
    ),
  );
  if (rideById) {
    for (const trip of trips) {
      const ride = rideById.get(trip.rideId);
      if (ride && ride.status !== trip.status)
        drift.push({ rideId: trip.rideId, detail: `${who}: trip says ${trip.status}, the ride is ${ride.status}` });
    }
  }
  return drift;
}

/** Differences between a driver's stored summary and the one recomputed from the trip list. */
export function driverSummaryDrift(view: DriverTripsView): Violation[] {
  const { summary, trips } = view;
  const who = `driver ${view.driverId}`;
  const ratings = trips.map((t) => t.rating).filter((r): r is number => typeof r === 'number');
  const average = ratings.length === 0 ? 0 : Math.round((ratings.reduce((a, b) => a + b, 0) / ratings.length) * 100) / 100;
  const drift: Violation[] = [];
  const compare = (field: string, stored: number, expected: number) => {
    if (Math.abs(stored - expected) > 1e-9) drift.push({ detail: `${who}: summary.${field} is ${stored}, recomputed ${expected}` });
  };
  compare('completed', summary.completed, trips.filter((t) => t.status === 'COMPLETED').length);
  compare(
    'earnings.amount',
    summary.earnings.amount,
    trips.reduce((sum, t) => sum + amountOf(t.earned), 0),
  );
  compare('rating.count', summary.rating.count, ratings.length);
  compare('rating.average', summary.rating.average, average);
  drift.push(
    ...lastTripAtDrift(
      who,
      summary.lastTripAt,
      trips.flatMap((t) => [t.assignedAt, t.endedAt ?? undefined]),
    ),
  );
  return drift;
}

/** lastTripAt is the latest change to any trip: null without trips, and never earlier than a trip's own times. */
function lastTripAtDrift(who: string, stored: string | null, times: (string | undefined)[]): Violation[] {
  const known = times.filter((t): t is string => t !== undefined).map((t) => Date.parse(t));
  if (known.length === 0) return stored === null ? [] : [{ detail: `${who}: summary.lastTripAt is ${stored} with no trips` }];
  const latest = Math.max(...known);
  if (stored === null) return [{ detail: `${who}: summary.lastTripAt is null, a trip changed at ${new Date(latest).toISOString()}` }];
  if (Date.parse(stored) < latest)
    return [{ detail: `${who}: summary.lastTripAt ${stored} is before the trip change at ${new Date(latest).toISOString()}` }];
  return [];
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = map.get(k);
    if (list) list.push(item);
    else map.set(k, [item]);
  }
  return map;
}

/** The report as lines of text: one line per invariant, then one per offending ride or record. */
export function formatAudit(report: AuditReport, options: { colour?: boolean; maxViolations?: number } = {}): string[] {
  const paint = (code: number, s: string) => (options.colour ? `\x1b[${code}m${s}\x1b[0m` : s);
  const lines: string[] = [];
  for (const inv of report.invariants) {
    const mark = inv.held ? paint(32, '✔ held    ') : paint(31, '✘ VIOLATED');
    lines.push(`${mark} ${inv.id}. ${inv.title}  (${inv.checked})`);
    const max = options.maxViolations ?? 20;
    for (const v of inv.violations.slice(0, max)) lines.push(`             - ${v.rideId ? `ride ${v.rideId}: ` : ''}${v.detail}`);
    if (inv.violations.length > max) lines.push(`             … and ${inv.violations.length - max} more`);
  }
  const violated = report.invariants.filter((i) => !i.held).map((i) => i.id);
  lines.push(
    violated.length === 0
      ? paint(32, `audit: all ${report.invariants.length} invariants held`)
      : paint(31, `audit: invariant(s) ${violated.join(', ')} violated (exit code ${report.exitCode})`),
  );
  return lines;
}
