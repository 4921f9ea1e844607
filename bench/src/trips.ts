// Trip history read speed (issue 7 item 7): one rider and one driver at 100 and at 10,000 trips, their summary and pages read over HTTP.
import { performance } from 'node:perf_hooks';
import { runServiceCommand } from '../../test/support/system/commands';
import { serviceByKey, type ServiceKey } from '../../test/support/system/services';
import { banner, brokerPrefix, mongoDbPrefix, record, type BenchContext } from './context';
import { BenchHttp } from './http';
import { startBenchServices, type BenchServices } from './services';
import { atMost, LatencyRecorder, ms, notRun, type LatencySummary } from './stats';

export interface TripsBenchOptions {
  amqpUrl: string;
  brokerPrefix: string;
  /** The services' MongoDB: their seed commands write there (an in-memory store lives inside its service's process). */
  mongoUrl: string;
  mongoDbPrefix: string;
  /** Trips at the small and the large measurement (100 and 10,000 by default). */
  small?: number;
  large?: number;
  /** Requests per measured read (sequential, one at a time), and a time cap per read. */
  samples?: number;
  maxSecondsPerRead?: number;
  log: (line: string) => void;
}

export type ReadName = 'summary read (GET ?limit=1)' | 'first page (limit 20)' | '100th page (limit 20)' | '100th page (limit 1)';

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

export async function runTripsBench(options: TripsBenchOptions): Promise<TripsBenchResult> {
  const small = options.small ?? 100;
  const large = options.large ?? 10_000;
  const http = new BenchHttp(4);
  let running: BenchServices | null = null;
  try {
    // The services' own startup creates the collections and indexes their seed commands write to.
    running = await startBenchServices({
      only: ['ride', 'driver'],
      amqpUrl: options.amqpUrl,
      brokerPrefix: options.brokerPrefix,
      mongoUrl: options.mongoUrl,
      mongoDbPrefix: options.mongoDbPrefix,
      env: { CURRENCY },
    });
    const { urls } = running;
    const rider = (await http.expect(201, 'POST', `${urls.ride}/riders`, {
      name: 'Bench Rider',
      email: 'bench.rider@bench.example',
    })) as { id: string };
    const driver = (await http.expect(201, 'POST', `${urls.driver}/drivers`, {
      name: 'Bench Driver',
      email: 'bench.driver@bench.example',
      location: { lat: 52.52, lng: 13.405 },
    })) as { id: string };

    const fillSeconds = { rider: 0, driver: 0 };
    const seed = async (key: ServiceKey, person: 'rider' | 'driver', id: string, from: number, to: number): Promise<void> => {
      const service = serviceByKey(key);
      const t = performance.now();
      const result = await runServiceCommand(
        service,
        'seed:trips',
        [`--${person}`, id, '--from', String(from), '--count', String(to - from)],
        {
          env: { MONGO_URL: options.mongoUrl, MONGO_DB_PREFIX: options.mongoDbPrefix, CURRENCY, LOG_LEVEL: 'warn' },
        },
      );
      if (result.code !== 0)
        throw new Error(`${service.name} seed:trips exited with ${String(result.code)}: ${result.lines.slice(-5).join(' / ')}`);
      // The command's own figure (its writes and fold) when it prints one; else the whole run, process start included.
      const said = result.lines.map((l) => / in ([\d.]+) s$/.exec(l)).find((m) => m !== null);
      fillSeconds[person] += said ? Number(said[1]) : (performance.now() - t) / 1000;
    };
    const fill = async (from: number, to: number): Promise<void> => {
      await seed('ride', 'rider', rider.id, from, to);
      await seed('driver', 'driver', driver.id, from, to);
    };

    const people: PersonReads[] = [
      { person: 'rider', path: `${urls.ride}/riders/${encodeURIComponent(rider.id)}/trips`, reads: [] },
      { person: 'driver', path: `${urls.driver}/drivers/${encodeURIComponent(driver.id)}/trips`, reads: [] },
    ];
    const measureAll = async (size: 'small' | 'large', trips: number): Promise<void> => {
      for (const p of people) {
        const reads = await measurePerson(http, p.path, trips, options);
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
      `seeded ${small} trips per person with the services' seed:trips commands (rider ${fillSeconds.rider.toFixed(1)} s, driver ${fillSeconds.driver.toFixed(1)} s); measuring`,
    );
    await checkCount(http, people, small);
    await measureAll('small', small);
    await fill(small, large);
    options.log(
      `seeded ${large} trips per person (rider ${fillSeconds.rider.toFixed(1)} s, driver ${fillSeconds.driver.toFixed(1)} s in all); measuring`,
    );
    await checkCount(http, people, large);
    await measureAll('large', large);

    return { store: 'mongodb', small, large, fillSeconds, people };
  } finally {
    await http.close().catch((err: unknown) => options.log(`  closing the HTTP client failed: ${(err as Error).message}`));
    if (running) await running.stop().catch((err: unknown) => options.log(`  stopping the services failed: ${(err as Error).message}`));
    for (const w of running?.serviceWarnings ?? []) options.log(`  service said: ${w.slice(0, 300)}`);
  }
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
  options: TripsBenchOptions,
): Promise<{ name: ReadName; summary: LatencySummary | null }[]> {
  const samples = options.samples ?? 200;
  const capMs = (options.maxSecondsPerRead ?? 2.5) * 1000;
  const time = async (fn: () => Promise<unknown>): Promise<LatencySummary> => {
    // A few unmeasured calls first: JIT, connection and caches warm, as for any later reader.
    for (let i = 0; i < 5; i++) await fn();
    const latencies = new LatencyRecorder();
    const start = performance.now();
    while (latencies.count < samples && (latencies.count < 30 || performance.now() - start < capMs)) {
      const t0 = performance.now();
      await fn();
      latencies.record(performance.now() - t0);
    }
    return latencies.summary();
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

/** The trips section of `npm run bench` and `npm run bench:trips`: on MongoDB, when MONGO_URL is set. */
export async function benchTrips(ctx: BenchContext): Promise<void> {
  banner(ctx, 'trip history reads (issue 7): one rider and one driver at 100 and at 10,000 trips, sequential requests over HTTP');
  // The bench reaches the services only over HTTP and the broker; the trips come from the services' own seed:trips
  // commands, which write to the service's database: an in-memory store, inside the service's process, has none to share.
  ctx.out(
    "!!! trips on in-memory stores: DID NOT RUN — an in-memory store lives inside its service's process, and the trips are " +
      "seeded by the services' own seed:trips commands, which write to the service's MongoDB",
  );
  ctx.targets.push(
    notRun('trips/memory summary read does not grow', '≤ 2 × the 100-trip p50', 'in-memory stores cannot be seeded from outside'),
  );
  if (!ctx.mongoUrl) {
    ctx.out('!!! trips on MongoDB: DID NOT RUN — MONGO_URL is not set (point it at a MongoDB replica set to include it)');
    ctx.targets.push(notRun('trips/mongodb summary read does not grow', '≤ 2 × the 100-trip p50', 'MONGO_URL is not set'));
    return;
  }
  ctx.out(`-- MongoDB (${redactMongo(ctx.mongoUrl)})`);
  const result = await runTripsBench({
    amqpUrl: ctx.amqpUrl,
    brokerPrefix: brokerPrefix(ctx, 'trips-mongodb'),
    mongoUrl: ctx.mongoUrl,
    mongoDbPrefix: mongoDbPrefix(ctx, 'trips', ['rides', 'drivers']),
    log: (line) => ctx.out(`  ${line}`),
  });
  for (const line of formatTrips(result)) ctx.out(line);
  ctx.out(
    '  note: GET …/trips?limit=1 also reads the newest trip; a real MongoDB walks the {owner, sortKey} index for it, but a ' +
      'stand-in that sorts every candidate of the owner (as the mongo-emulator does) makes that request grow with the trips',
  );
  for (const p of result.people) {
    const row = p.reads.find((r) => r.name === 'summary read (GET ?limit=1)');
    if (!row?.small || !row.large) continue;
    // "Does not grow": the median at 10,000 trips within twice the one at 100 (plus 0.5 ms of timer noise).
    const limit = 2 * row.small.p50 + 0.5;
    const t = atMost(
      `trips/mongodb ${p.person} ${row.name} p50 at ${result.large} trips (vs ${ms(row.small.p50, 3)} at ${result.small})`,
      row.large.p50,
      limit,
      (v) => ms(v, 3),
    );
    record(ctx, { ...t, target: `≤ 2 × the 100-trip p50 + 0.5 ms = ${ms(limit, 3)}` });
  }
}

export function redactMongo(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
