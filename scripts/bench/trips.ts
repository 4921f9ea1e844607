// Trip history read speed (issue 7 item 7): one rider and one driver at 100 and at 10,000 trips, their summary and pages read over HTTP.
import { performance } from 'node:perf_hooks';
import { createLogger, createStore, MemoryStore, sortKey, type Env, type RunningService, type Store } from '@ridehail/shared';
import {
  complete as completeTrip,
  confirm as confirmTrip,
  assignDriver as assignTrip,
  recordCapture as captureTrip,
  recordRating as rateTrip,
  type RideAssignment,
} from '../../driver-service/src/domain/trip';
import { start as startDriver } from '../../driver-service/src/main';
import { driverTripSummaries } from '../../driver-service/src/store/collections';
import { save as saveTrip } from '../../driver-service/src/store/trips';
import {
  assignDriver,
  completeRide,
  confirmRide,
  rateRide,
  recordCapture,
  rejectRide,
  requestRide,
  cancelByRider,
  type Decision,
  type Ride,
} from '../../ride-service/src/domain/ride';
import type { Rider } from '../../ride-service/src/domain/rider';
import { start as startRide } from '../../ride-service/src/main';
import { riderSummaries } from '../../ride-service/src/store/collections';
import { saveRideChange } from '../../ride-service/src/store/rideWrites';
import { banner, brokerPrefix, mongoDbPrefix, record, type BenchContext } from './context';
import { BenchHttp } from './http';
import { atMost, ms, notRun, summarize, type LatencySummary } from './stats';

export interface TripsBenchOptions {
  amqpUrl: string;
  brokerPrefix: string;
  /** Unset: in-memory stores. */
  mongoUrl?: string;
  mongoDbPrefix: string;
  /** Trips at the small and the large measurement (100 and 10,000 by default). */
  small?: number;
  large?: number;
  /** Requests per measured read (sequential, one at a time), and a time cap per read. */
  samples?: number;
  maxSecondsPerRead?: number;
  log: (line: string) => void;
}

export type ReadName =
  | 'summary (store: one document read)'
  | 'summary read (GET ?limit=1)'
  | 'first page (limit 20)'
  | '100th page (limit 20)'
  | '100th page (limit 1)';

export interface PersonReads {
  person: 'rider' | 'driver';
  path: string;
  reads: { name: ReadName; small: LatencySummary | null; large: LatencySummary | null }[];
}

export interface TripsBenchResult {
  store: string;
  small: number;
  large: number;
  fillSeconds: { rider: number; driver: number };
  people: PersonReads[];
}

const CURRENCY = 'EUR';
const TRIPS_PER_TRANSACTION = 100;
/** Trip k of a person starts k minutes before this instant: distinct, ordered sort keys. */
const NEWEST = Date.parse('2026-01-01T12:00:00.000Z');

const at = (k: number, plusSeconds = 0) => new Date(NEWEST - k * 60_000 + plusSeconds * 1000).toISOString();
const fareOf = (k: number) => 800 + (k % 37) * 25;

export async function runTripsBench(options: TripsBenchOptions): Promise<TripsBenchResult> {
  const small = options.small ?? 100;
  const large = options.large ?? 10_000;
  const logger = createLogger('bench', 'warn');
  const storeFor = (database: string): Store =>
    options.mongoUrl
      ? createStore({ mongoUrl: options.mongoUrl, dbName: `${options.mongoDbPrefix}${database}`, logger })
      : new MemoryStore({ name: database });
  const rideStore = storeFor('rides');
  const driverStore = storeFor('drivers');
  const env: Env = {
    PORT: '0',
    AMQP_URL: options.amqpUrl,
    BROKER_PREFIX: options.brokerPrefix,
    MONGO_DB_PREFIX: options.mongoDbPrefix,
    LOG_LEVEL: 'warn',
    CURRENCY,
  };
  if (options.mongoUrl) env.MONGO_URL = options.mongoUrl;
  const http = new BenchHttp(4);
  const running: RunningService[] = [];
  try {
    // The services' own startup creates the collections and indexes the fill below writes to.
    const ride = await startRide(env, { store: rideStore });
    running.push(ride);
    const driverSvc = await startDriver(env, { store: driverStore });
    running.push(driverSvc);

    const riderBody = { name: 'Bench Rider', email: 'bench.rider@bench.example' };
    const riderView = (await http.expect(201, 'POST', `${ride.url}/riders`, riderBody)) as { id: string; createdAt?: string };
    const rider: Rider = {
      id: riderView.id,
      version: 1,
      name: riderBody.name,
      email: riderBody.email,
      status: 'ACTIVE',
      createdAt: at(large + 1),
    };
    const driverView = (await http.expect(201, 'POST', `${driverSvc.url}/drivers`, {
      name: 'Bench Driver',
      email: 'bench.driver@bench.example',
      location: { lat: 52.52, lng: 13.405 },
    })) as { id: string };
    const driverRef = { id: driverView.id, name: 'Bench Driver', email: 'bench.driver@bench.example' };

    const fillSeconds = { rider: 0, driver: 0 };
    const fill = async (from: number, to: number): Promise<void> => {
      let t = performance.now();
      await inTransactions(rideStore, from, to, async (tx, k) => {
        await saveRideChange(tx, null, riderTrip(rider, driverRef, k), CURRENCY);
      });
      fillSeconds.rider += (performance.now() - t) / 1000;
      t = performance.now();
      await inTransactions(driverStore, from, to, async (tx, k) => {
        await saveTrip(tx, null, driverTrip(driverRef.id, k), CURRENCY);
      });
      fillSeconds.driver += (performance.now() - t) / 1000;
    };

    const people: PersonReads[] = [
      { person: 'rider', path: `${ride.url}/riders/${encodeURIComponent(rider.id)}/trips`, reads: [] },
      { person: 'driver', path: `${driverSvc.url}/drivers/${encodeURIComponent(driverRef.id)}/trips`, reads: [] },
    ];
    const summaryDoc = {
      rider: () => rideStore.read(riderSummaries).get(rider.id),
      driver: () => driverStore.read(driverTripSummaries).get(driverRef.id),
    };
    const measureAll = async (size: 'small' | 'large', trips: number): Promise<void> => {
      for (const p of people) {
        const reads = await measurePerson(http, p.path, trips, () => summaryDoc[p.person](), options);
        for (const r of reads) {
          let row = p.reads.find((x) => x.name === r.name);
          if (!row) {
            row = { name: r.name, small: null, large: null };
            p.reads.push(row);
          }
          row[size] = r.summary;
        }
      }
    };

    await fill(0, small);
    options.log(
      `filled ${small} trips per person (rider ${fillSeconds.rider.toFixed(1)} s, driver ${fillSeconds.driver.toFixed(1)} s); measuring`,
    );
    await checkCount(http, people, small);
    await measureAll('small', small);
    await fill(small, large);
    options.log(
      `filled ${large} trips per person (rider ${fillSeconds.rider.toFixed(1)} s, driver ${fillSeconds.driver.toFixed(1)} s in all); measuring`,
    );
    await checkCount(http, people, large);
    await measureAll('large', large);

    return { store: options.mongoUrl ? 'mongodb' : 'memory', small, large, fillSeconds, people };
  } finally {
    http.close();
    for (const svc of running.reverse())
      await svc.stop().catch((err: unknown) => options.log(`  stopping ${svc.name} failed: ${(err as Error).message}`));
    // A store handed to start() is closed by the service's stop(); close again in case start() failed half-way.
    await rideStore.close().catch(() => undefined);
    await driverStore.close().catch(() => undefined);
  }
}

/** Runs `write(tx, k)` for k in [from, to), many per unit of work (one summary document per person takes every trip in turn). */
async function inTransactions(
  store: Store,
  from: number,
  to: number,
  write: (tx: Parameters<Parameters<Store['run']>[0]>[0], k: number) => Promise<void>,
): Promise<void> {
  for (let start = from; start < to; start += TRIPS_PER_TRANSACTION) {
    const end = Math.min(to, start + TRIPS_PER_TRANSACTION);
    await store.run(async (tx) => {
      for (let k = start; k < end; k++) await write(tx, k);
    });
  }
}

function decided(d: Decision, what: string): Ride {
  if (!d.changed) throw new Error(`building bench trip: ${what} refused (${d.refusal}: ${d.detail})`);
  return d.ride;
}

/** Trip k of the rider, built by the ride domain's own transitions: mostly completed, paid and rated; some cancelled or rejected. */
function riderTrip(rider: Rider, driver: { id: string; name: string; email: string }, k: number): Ride {
  const rideId = `bench-ride-${String(k).padStart(6, '0')}`;
  const change = (s: number) => ({ at: at(k, s), cause: `bench-${k}-${s}` });
  const pickup = { lat: 52.52, lng: 13.405 };
  let ride = decided(
    requestRide(
      { id: rideId, rider, pickup, dropoff: { lat: 52.53, lng: 13.42 }, paymentMethod: 'pm_card_visa', sortKey: sortKey(at(k), rideId) },
      change(0),
    ),
    'request',
  );
  if (k % 20 === 7) return decided(rejectRide(ride, 'no driver in range', change(5)), 'reject');
  ride = decided(assignDriver(ride, driver, change(5)), 'assign');
  if (k % 20 === 13) return decided(cancelByRider(ride, change(8)), 'cancel');
  ride = decided(confirmRide(ride, { driver, fare: { amount: fareOf(k), currency: CURRENCY } }, change(10)), 'confirm');
  ride = decided(completeRide(ride, change(30)), 'complete');
  ride = decided(
    recordCapture(ride, { paymentId: `pay-${rideId}`, amount: fareOf(k), currency: CURRENCY, capturedAt: at(k, 31) }, change(31)),
    'capture',
  );
  if (k % 3 !== 0) ride = decided(rateRide(ride, { stars: 1 + (k % 5) }, change(40)), 'rate');
  return ride;
}

/** Trip k of the driver, built by the driver domain's own transitions. */
function driverTrip(driverId: string, k: number): RideAssignment {
  const rideId = `bench-ride-${String(k).padStart(6, '0')}`;
  const step = (rec: RideAssignment | null, what: string): RideAssignment => {
    if (rec === null) throw new Error(`building bench driver trip: ${what} refused`);
    return rec;
  };
  let rec = assignTrip(null, rideId, driverId, at(k), sortKey(at(k), rideId));
  rec = step(confirmTrip(rec, at(k, 10)), 'confirm');
  rec = step(completeTrip(rec, at(k, 30)), 'complete');
  rec = step(
    captureTrip(rec, rideId, { paymentId: `pay-${rideId}`, amount: { amount: fareOf(k), currency: CURRENCY }, at: at(k, 31) }),
    'capture',
  );
  if (k % 3 !== 0) rec = step(rateTrip(rec, rideId, 1 + (k % 5), at(k, 40)), 'rate');
  return rec;
}

/** The views must show what was written (else the timings would measure something else). */
async function checkCount(http: BenchHttp, people: PersonReads[], trips: number): Promise<void> {
  for (const p of people) {
    const body = (await http.expect(200, 'GET', `${p.path}?limit=1`)) as { summary?: Record<string, unknown> };
    const s = body.summary ?? {};
    // Every rider trip counts as requested; every driver trip written here is completed.
    const counted = p.person === 'rider' ? s.requested : s.completed;
    if (counted !== trips)
      throw new Error(`${p.person} summary shows ${String(counted)} trips after ${trips} were written: ${JSON.stringify(s)}`);
  }
}

async function measurePerson(
  http: BenchHttp,
  path: string,
  trips: number,
  readSummaryDoc: () => Promise<unknown>,
  options: TripsBenchOptions,
): Promise<{ name: ReadName; summary: LatencySummary | null }[]> {
  const samples = options.samples ?? 200;
  const capMs = (options.maxSecondsPerRead ?? 2.5) * 1000;
  const time = async (fn: () => Promise<unknown>): Promise<LatencySummary> => {
    // A few unmeasured calls first: JIT, connection and caches warm, as for any later reader.
    for (let i = 0; i < 5; i++) await fn();
    const out: number[] = [];
    const start = performance.now();
    while (out.length < samples && (out.length < 30 || performance.now() - start < capMs)) {
      const t0 = performance.now();
      await fn();
      out.push(performance.now() - t0);
    }
    return summarize(out);
  };
  const get = (query: string) => () => http.expect(200, 'GET', `${path}${query}`);
  const cursorOfPage = async (page: number, limit: number): Promise<string | null> => {
    let before: string | undefined;
    for (let p = 1; p < page; p++) {
      const body = (await http.expect(200, 'GET', `${path}?limit=${limit}${before ? `&before=${encodeURIComponent(before)}` : ''}`)) as {
        next?: string;
      };
      if (typeof body.next !== 'string') return null;
      before = body.next;
    }
    return before ?? null;
  };

  const results: { name: ReadName; summary: LatencySummary | null }[] = [];
  results.push({ name: 'summary (store: one document read)', summary: await time(readSummaryDoc) });
  results.push({ name: 'summary read (GET ?limit=1)', summary: await time(get('?limit=1')) });
  results.push({ name: 'first page (limit 20)', summary: await time(get('')) });
  const cursor20 = trips > 99 * 20 ? await cursorOfPage(100, 20) : null;
  results.push({
    name: '100th page (limit 20)',
    summary: cursor20 ? await time(get(`?limit=20&before=${encodeURIComponent(cursor20)}`)) : null,
  });
  const cursor1 = await cursorOfPage(100, 1);
  results.push({
    name: '100th page (limit 1)',
    summary: cursor1 ? await time(get(`?limit=1&before=${encodeURIComponent(cursor1)}`)) : null,
  });
  return results;
}

/** The side-by-side table, one line per read: p50/p99 at the small and the large size. */
export function formatTrips(result: TripsBenchResult): string[] {
  const lines: string[] = [];
  const cell = (s: LatencySummary | null) =>
    s ? `p50 ${ms(s.p50, 3).padStart(10)}  p99 ${ms(s.p99, 3).padStart(10)}` : 'n/a (fewer than 100 pages)';
  for (const p of result.people) {
    lines.push(`  ${p.person} (${p.path.replace(/^http:\/\/[^/]+/, '')}):`);
    lines.push(`    ${'read'.padEnd(36)} ${`${result.small} trips`.padEnd(30)} ${result.large} trips`);
    for (const r of p.reads) lines.push(`    ${r.name.padEnd(36)} ${cell(r.small).padEnd(30)} ${cell(r.large)}`);
  }
  return lines;
}

/** The trips section of `npm run bench` and `npm run bench:trips`: in-memory always, MongoDB when MONGO_URL is set. */
export async function benchTrips(ctx: BenchContext): Promise<void> {
  banner(ctx, 'trip history reads (issue 7): one rider and one driver at 100 and at 10,000 trips, sequential requests over HTTP');
  const cases: { store: 'memory' | 'mongodb'; mongoUrl?: string }[] = [{ store: 'memory' }];
  if (ctx.mongoUrl) cases.push({ store: 'mongodb', mongoUrl: ctx.mongoUrl });
  for (const c of cases) {
    ctx.out(`-- ${c.store === 'memory' ? 'in-memory stores' : `MongoDB (${redactMongo(c.mongoUrl ?? '')})`}`);
    const result = await runTripsBench({
      amqpUrl: ctx.amqpUrl,
      brokerPrefix: brokerPrefix(ctx, `trips-${c.store}`),
      mongoUrl: c.mongoUrl,
      mongoDbPrefix: c.mongoUrl ? mongoDbPrefix(ctx, `trips`, ['rides', 'drivers']) : '',
      log: (line) => ctx.out(`  ${line}`),
    });
    for (const line of formatTrips(result)) ctx.out(line);
    ctx.out(
      c.store === 'memory'
        ? '  note: GET …/trips?limit=1 also reads the newest trip; the in-memory adapter answers that find by filtering the whole ' +
            'collection and sorting every match (MemoryStore.read().find → query()), so the request grows with the trips while the summary (one get) does not'
        : '  note: GET …/trips?limit=1 also reads the newest trip; a real MongoDB walks the {owner, sortKey} index for it, but a ' +
            'stand-in that sorts every candidate of the owner (as the mongo-emulator does) makes that request grow with the trips',
    );
    for (const p of result.people) {
      for (const name of ['summary (store: one document read)', 'summary read (GET ?limit=1)'] as const) {
        const row = p.reads.find((r) => r.name === name);
        if (!row?.small || !row.large) continue;
        // "Does not grow": the median at 10,000 trips within twice the one at 100 (plus 0.5 ms of timer noise).
        const limit = 2 * row.small.p50 + 0.5;
        const t = atMost(
          `trips/${c.store} ${p.person} ${name} p50 at ${result.large} trips (vs ${ms(row.small.p50, 3)} at ${result.small})`,
          row.large.p50,
          limit,
          (v) => ms(v, 3),
        );
        record(ctx, { ...t, target: `≤ 2 × the 100-trip p50 + 0.5 ms = ${ms(limit, 3)}` });
      }
    }
  }
  if (!ctx.mongoUrl) {
    ctx.out('!!! trips on MongoDB: DID NOT RUN — MONGO_URL is not set (point it at a MongoDB replica set to include it)');
    ctx.targets.push(notRun('trips/mongodb summary read does not grow', '≤ 2 × the 100-trip p50', 'MONGO_URL is not set'));
  }
}

export function redactMongo(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
