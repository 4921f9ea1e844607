// Whole sagas (POST /rides → ride.confirmed on the tap): max throughput with many in flight, then latency at a fixed offered rate.
import { performance } from 'node:perf_hooks';
import amqp from 'amqplib';
import { costBetween, openMongoCounters, type MongoCost } from './cost';
import { cpuSnapshot, findBrokerPid, findListenerPid, mongoPort } from './cpu';
import { BenchHttp, inParallel } from './http';
import { offerAtRate, waitFor } from './rawChain';
import { openSagaTap, type RideOutcome, type SagaTap } from './sagaTap';
import { startBenchServices, type BenchServices } from './services';
import { LatencyRecorder, type LatencySummary } from './stats';

export type SagaPhase = 'throughput' | 'latency';

export interface SagaBenchOptions {
  amqpUrl: string;
  /** BROKER_PREFIX of each phase (each phase runs on fresh services, so it starts from a clean state). */
  brokerPrefix: (phase: SagaPhase) => string;
  mongoUrl?: string;
  /** MONGO_DB_PREFIX of each phase (ignored without mongoUrl). */
  mongoDbPrefix: (phase: SagaPhase) => string;
  /** Sagas kept in flight in the throughput phase. */
  inflight: number;
  /** The throughput phase stops starting sagas after this many, or after `throughputSeconds`, whichever comes first. */
  throughputSagas: number;
  throughputSeconds: number;
  warmupSeconds: number;
  /** Offered rate (sagas/s) and length of the latency phase; 0 seconds skips it. */
  latencyRate: number;
  latencySeconds: number;
  /** Riders sharing the rides (default 20, as DESIGN §8 counts the cost: a rider has several rides in flight). */
  riders?: number;
  log: (line: string) => void;
}

export interface PhaseFailures {
  /** POST /rides answered something else than 202 (or not at all). */
  http: number;
  rejected: number;
  cancelled: number;
  /** Accepted, but no outcome on the tap within the wait. */
  lost: number;
}

export interface ThroughputResult {
  sagasPerSecond: number;
  completed: number;
  started: number;
  seconds: number;
  inflight: number;
  failures: PhaseFailures;
  /** CPU ms each process used in the measured window (services, broker, this process). */
  cpu: Record<string, number>;
}

export interface LatencyResult {
  rate: number;
  offered: number;
  summary: LatencySummary;
  failures: PhaseFailures;
  /** Confirmed sagas in the phase: the unit of the cost figures. */
  confirmed: number;
  /** CPU ms each process used from the first POST /rides until the sagas' exchanges were quiet. */
  cpu: Record<string, number>;
  /** MongoDB's own counters over the same window (null on in-memory stores). */
  mongo: MongoCost | null;
}

export interface SagaBenchResult {
  store: string;
  throughput: ThroughputResult;
  latency: LatencyResult | null;
  /** Messages left parked in the services' .dlq queues (should be 0). */
  parked: number;
  serviceWarnings: string[];
}

const CENTER = { lat: 52.52, lng: 13.405 };
/** About 110 m between neighbouring drivers: saga i picks up where driver i waits, so driver i is the nearest free one. */
const GRID_STEP = 0.001;
const GRID_COLUMNS = 100;

function spot(i: number): { lat: number; lng: number } {
  return { lat: CENTER.lat + Math.floor(i / GRID_COLUMNS) * GRID_STEP, lng: CENTER.lng + (i % GRID_COLUMNS) * GRID_STEP };
}

const serviceQueues = (prefix: string) =>
  ['ride-service', 'driver-service', 'payment-service', 'notification-service'].map((s) => `${prefix}${s}`);

/** A confirmed ride keeps its driver ON_TRIP, so every saga needs a driver of its own: as many as sagas, and a margin. */
const driversFor = (sagas: number) => sagas + Math.ceil(sagas * 0.05) + 10;

export async function runSagaBench(options: SagaBenchOptions): Promise<SagaBenchResult> {
  const warnings: string[] = [];
  let parked = 0;
  let store = 'memory';
  const tp = await withStack(options, 'throughput', driversFor(options.throughputSagas), async (stack) => {
    store = stack.services.store;
    const r = await throughputPhase(stack, options);
    parked += await stack.parked();
    warnings.push(...stack.services.serviceWarnings);
    return r;
  });
  let latency: LatencyResult | null = null;
  if (options.latencySeconds > 0) {
    const sagas = Math.ceil(options.latencyRate * options.latencySeconds);
    latency = await withStack(options, 'latency', driversFor(sagas), async (stack) => {
      const r = await latencyPhase(stack, options);
      parked += await stack.parked();
      warnings.push(...stack.services.serviceWarnings);
      return r;
    });
  }
  return { store, throughput: tp, latency, parked, serviceWarnings: warnings };
}

/** Fresh services with their riders and drivers, a tap, and the bookkeeping of sagas in flight. */
interface Stack {
  services: BenchServices;
  tap: SagaTap;
  sagas: SagaTracker;
  /** Messages parked in the services' .dlq queues. */
  parked(): Promise<number>;
}

async function withStack<T>(options: SagaBenchOptions, phase: SagaPhase, drivers: number, run: (stack: Stack) => Promise<T>): Promise<T> {
  const { log } = options;
  const prefix = options.brokerPrefix(phase);
  const startedAt = performance.now();
  const services = await startBenchServices({
    amqpUrl: options.amqpUrl,
    brokerPrefix: prefix,
    mongoUrl: options.mongoUrl,
    mongoDbPrefix: options.mongoUrl ? options.mongoDbPrefix(phase) : '',
  });
  const http = new BenchHttp(Math.max(64, options.inflight));
  let probe: amqp.ChannelModel | null = null;
  let tap: SagaTap | null = null;
  try {
    probe = await amqp.connect(options.amqpUrl, { clientProperties: { connection_name: `${prefix}bench.probe` } });
    tap = await openSagaTap(options.amqpUrl, prefix);
    const riderCount = options.riders ?? 20;
    const seedStart = performance.now();
    const riderIds: string[] = new Array<string>(riderCount);
    await inParallel(riderCount, 16, async (i) => {
      const rider = (await http.expect(201, 'POST', `${services.urls.ride}/riders`, {
        name: `Bench Rider ${i}`,
        email: `rider${i}@bench.example`,
      })) as { id: string };
      riderIds[i] = rider.id;
    });
    await inParallel(drivers, 16, async (i) => {
      await http.expect(201, 'POST', `${services.urls.driver}/drivers`, {
        name: `Bench Driver ${i}`,
        email: `driver${i}@bench.example`,
        location: spot(i),
      });
    });
    log(
      `${phase} phase: fresh services up in ${((seedStart - startedAt) / 1000).toFixed(1)} s; ` +
        `seeded ${riderCount} riders and ${drivers} AVAILABLE drivers in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`,
    );
    const queues = serviceQueues(prefix);
    const conn = probe;
    const stack: Stack = {
      services,
      tap,
      sagas: new SagaTracker(http, services.urls.ride, riderIds, tap, log),
      parked: () =>
        countMessages(
          conn,
          queues.map((q) => `${q}.dlq`),
        ),
    };
    return await run(stack);
  } finally {
    await http.close().catch((err: unknown) => log(`  closing the HTTP client failed: ${(err as Error).message}`));
    if (tap) await tap.close().catch(() => undefined);
    if (probe) await probe.close().catch(() => undefined);
    try {
      await services.stop();
    } catch (err) {
      log(`  stopping the services failed: ${(err as Error).message}`);
    }
  }
}

/** `inflight` sagas at once, each settled one replaced at once, until the saga or the time budget is spent. */
async function throughputPhase(stack: Stack, options: SagaBenchOptions): Promise<ThroughputResult> {
  const { sagas } = stack;
  const phaseStart = performance.now();
  let refill = true;
  let started = 0;
  let counting = false;
  let completed = 0;
  const startOne = () => {
    started++;
    sagas.start('throughput');
  };
  sagas.onConfirmed = () => {
    if (counting) completed++;
  };
  sagas.afterSettle = () => {
    if (!refill) return;
    if (started >= options.throughputSagas || performance.now() - phaseStart > options.throughputSeconds * 1000) {
      refill = false;
      return;
    }
    startOne();
  };
  for (let k = 0; k < options.inflight && started < options.throughputSagas; k++) startOne();
  const budgetMs = options.throughputSeconds * 1000 + 60_000;
  await waitFor(() => !refill || performance.now() - phaseStart > options.warmupSeconds * 1000, budgetMs, 'the warm-up');
  const cpu = await cpuSnapshot(servicePids(stack, options.mongoUrl));
  counting = true;
  const countFrom = performance.now();
  await waitFor(() => !refill, budgetMs, 'the throughput phase');
  const seconds = (performance.now() - countFrom) / 1000;
  counting = false;
  const cpuUsed = await cpu.since();
  await sagas.settleAll(30_000);
  options.log(
    `throughput phase: ${started} sagas started (${options.inflight} in flight), ${completed} confirmed in the ${seconds.toFixed(1)} s after a ${options.warmupSeconds} s warm-up`,
  );
  return {
    sagasPerSecond: completed / seconds,
    completed,
    started,
    seconds,
    inflight: options.inflight,
    failures: sagas.failures,
    cpu: cpuUsed,
  };
}

/**
 * An open-loop offered rate: sagas start on schedule whether or not earlier ones finished. Its cost is counted from the
 * first POST /rides until the sagas' exchanges are quiet (notifications and all): process CPU and MongoDB's counters.
 */
async function latencyPhase(stack: Stack, options: SagaBenchOptions): Promise<LatencyResult> {
  const { sagas } = stack;
  const latencies = new LatencyRecorder();
  sagas.onConfirmed = (latencyMs) => latencies.record(latencyMs);
  const counters = options.mongoUrl ? await openMongoCounters(options.mongoUrl) : null;
  try {
    const cpu = await cpuSnapshot(servicePids(stack, options.mongoUrl));
    const before = counters ? await counters.read() : null;
    const offered = await offerAtRate(options.latencyRate, options.latencySeconds * 1000, () => sagas.start('latency'));
    await sagas.settleAll(30_000);
    if (!(await waitQuiet(stack.tap, QUIET_MS, 60_000)))
      options.log('latency phase: the exchanges were still busy 60 s after the last saga ended; the cost covers up to then');
    const cpuUsed = await cpu.since();
    const mongo = counters && before ? costBetween(before, await counters.read()) : null;
    return {
      rate: options.latencyRate,
      offered,
      summary: latencies.summary(),
      failures: sagas.failures,
      confirmed: latencies.count,
      cpu: cpuUsed,
      mongo,
    };
  } finally {
    await counters?.close();
  }
}

/** No saga message on any exchange for this long: the tail (notifications, the driver ON_TRIP) is done. */
const QUIET_MS = 1_000;

/** False when the exchanges were still busy after `timeoutMs` (the cost then covers the window up to that point). */
async function waitQuiet(tap: SagaTap, quietMs: number, timeoutMs: number): Promise<boolean> {
  try {
    await waitFor(() => performance.now() - tap.lastMessageAt() >= quietMs, timeoutMs, 'the exchanges to be quiet');
    return true;
  } catch {
    return false;
  }
}

/** The processes whose CPU time a phase reports: the four services, the broker and the database when they run here. */
function servicePids(stack: Stack, mongoUrl: string | undefined): Record<string, number | null | undefined> {
  return {
    'ride-service': stack.services.pids.ride,
    'driver-service': stack.services.pids.driver,
    'payment-service': stack.services.pids.payment,
    'notification-service': stack.services.pids.notification,
    rabbitmq: findBrokerPid(),
    mongodb: mongoUrl ? findListenerPid(mongoPort(mongoUrl) ?? -1) : null,
  };
}

/** Starts sagas over HTTP and matches each ride's outcome on the tap to its start time. */
class SagaTracker {
  readonly failures: PhaseFailures = { http: 0, rejected: 0, cancelled: 0, lost: 0 };
  /** Called with the saga's latency (ms from sending POST /rides to ride.confirmed on the tap). */
  onConfirmed: (latencyMs: number) => void = () => undefined;
  /** Called after every saga ended (confirmed, failed or refused). */
  afterSettle: () => void = () => undefined;
  private readonly inFlight = new Map<string, number>();
  private readonly early = new Map<string, { outcome: RideOutcome; at: number }>();
  private posting = 0;
  private next = 0;

  constructor(
    private readonly http: BenchHttp,
    private readonly rideUrl: string,
    private readonly riderIds: string[],
    tap: SagaTap,
    private readonly log: (line: string) => void,
  ) {
    tap.onOutcome((rideId, outcome, at) => this.settle(rideId, outcome, at));
  }

  start(phase: SagaPhase): void {
    const i = this.next++;
    const pickup = spot(i);
    const body = {
      riderId: this.riderIds[i % this.riderIds.length],
      pickup,
      dropoff: { lat: pickup.lat + 0.02, lng: pickup.lng + 0.01 },
      paymentMethod: 'pm_card_visa',
    };
    const t0 = performance.now();
    this.posting++;
    this.http
      .request('POST', `${this.rideUrl}/rides`, body)
      .then((res) => {
        this.posting--;
        const rideId =
          res.status === 202 && typeof res.body === 'object' && res.body !== null ? (res.body as { rideId?: unknown }).rideId : undefined;
        if (typeof rideId !== 'string') {
          this.httpFailure(`${phase}: POST /rides answered ${res.status}: ${JSON.stringify(res.body).slice(0, 200)}`);
          return;
        }
        this.inFlight.set(rideId, t0);
        const came = this.early.get(rideId);
        if (came) {
          this.early.delete(rideId);
          this.settle(rideId, came.outcome, came.at);
        }
      })
      .catch((err: unknown) => {
        this.posting--;
        this.httpFailure(`${phase}: POST /rides failed: ${(err as Error).message}`);
      });
  }

  /** Waits until every started saga ended; the ones still open after `timeoutMs` count as lost. */
  async settleAll(timeoutMs: number): Promise<void> {
    try {
      await waitFor(() => this.inFlight.size + this.posting === 0, timeoutMs, 'the started sagas to end');
    } catch {
      // Reported as lost sagas, not as an error: the figures of the phase still stand.
      this.failures.lost += this.inFlight.size;
      this.inFlight.clear();
    }
  }

  private httpFailure(message: string): void {
    this.failures.http++;
    if (this.failures.http <= 3) this.log(`  ${message}`);
    this.afterSettle();
  }

  private settle(rideId: string, outcome: RideOutcome, at: number): void {
    const t0 = this.inFlight.get(rideId);
    if (t0 === undefined) {
      // The outcome beat the 202 to us: keep it for the POST's answer.
      this.early.set(rideId, { outcome, at });
      return;
    }
    this.inFlight.delete(rideId);
    if (outcome === 'ride.confirmed') this.onConfirmed(at - t0);
    else if (outcome === 'ride.rejected') this.failures.rejected++;
    else this.failures.cancelled++;
    this.afterSettle();
  }
}

/** Ready messages in the queues (unacked ones are being handled); checkQueue closes its channel on a missing queue. */
async function countMessages(connection: amqp.ChannelModel, queues: string[]): Promise<number> {
  let total = 0;
  for (const q of queues) {
    const ch = await connection.createChannel();
    try {
      total += (await ch.checkQueue(q)).messageCount;
      await ch.close();
    } catch {
      // The queue does not exist (yet): nothing in it.
    }
  }
  return total;
}
