// Whole sagas (POST /rides → ride.confirmed on the tap): max throughput with many in flight, then latency at a fixed offered rate.
import { performance } from 'node:perf_hooks';
import amqp from 'amqplib';
import { BenchHttp, inParallel } from './http';
import { offerAtRate, waitFor } from './rawChain';
import { openSagaTap, type RideOutcome } from './sagaTap';
import { startBenchServices, type BenchServices, type SagaMode } from './services';
import { summarize, sleep, type LatencySummary } from './stats';

export interface SagaBenchOptions {
  mode: SagaMode;
  amqpUrl: string;
  brokerPrefix: string;
  mongoUrl?: string;
  mongoDbPrefix: string;
  /** Sagas kept in flight in the throughput phase. */
  inflight: number;
  /** The throughput phase stops starting sagas after this many, or after `throughputSeconds`, whichever comes first. */
  throughputSagas: number;
  throughputSeconds: number;
  warmupSeconds: number;
  /** Offered rate (sagas/s) and length of the latency phase; 0 seconds skips it. */
  latencyRate: number;
  latencySeconds: number;
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

export interface SagaBenchResult {
  mode: SagaMode;
  store: string;
  drivers: number;
  throughput: { sagasPerSecond: number; completed: number; seconds: number; inflight: number; failures: PhaseFailures };
  latency: { rate: number; offered: number; summary: LatencySummary; failures: PhaseFailures } | null;
  /** Messages left parked in the services' .dlq queues (should be 0). */
  parked: number;
  serviceWarnings: string[];
}

interface InFlight {
  t0: number;
  phase: 'throughput' | 'latency';
}

const CENTER = { lat: 52.52, lng: 13.405 };
/** About 110 m between neighbouring drivers: saga i picks up where driver i waits, so it is the nearest one. */
const GRID_STEP = 0.001;
const GRID_COLUMNS = 100;

function spot(i: number): { lat: number; lng: number } {
  return { lat: CENTER.lat + Math.floor(i / GRID_COLUMNS) * GRID_STEP, lng: CENTER.lng + (i % GRID_COLUMNS) * GRID_STEP };
}

const serviceQueues = (prefix: string) => ['ride-service', 'driver-service', 'payment-service', 'notification-service'].map((s) => `${prefix}${s}`);

export async function runSagaBench(options: SagaBenchOptions): Promise<SagaBenchResult> {
  const { log } = options;
  const http = new BenchHttp(Math.max(64, options.inflight));
  const startedAt = performance.now();
  const services = await startBenchServices({
    mode: options.mode,
    amqpUrl: options.amqpUrl,
    brokerPrefix: options.brokerPrefix,
    mongoUrl: options.mongoUrl,
    mongoDbPrefix: options.mongoDbPrefix,
  });
  const probe = await amqp.connect(options.amqpUrl, { clientProperties: { connection_name: `${options.brokerPrefix}bench.probe` } });
  let tap: Awaited<ReturnType<typeof openSagaTap>> | null = null;
  try {
    log(`services up (${services.mode}, store ${services.store === 'memory' ? 'in-memory' : 'mongodb'}) in ${((performance.now() - startedAt) / 1000).toFixed(1)} s`);
    tap = await openSagaTap(options.amqpUrl, options.brokerPrefix);

    // Seed: riders (many, so one rider's summary is rarely raced by two of its own sagas) and one driver per saga.
    const riderCount = options.riders ?? 500;
    const latencySagas = Math.ceil(options.latencyRate * options.latencySeconds);
    const driverCount = options.throughputSagas + latencySagas + Math.ceil(0.05 * (options.throughputSagas + latencySagas)) + 10;
    const seedStart = performance.now();
    const riderIds: string[] = new Array<string>(riderCount);
    await inParallel(riderCount, 16, async (i) => {
      const rider = (await http.expect(201, 'POST', `${services.urls.ride}/riders`, { name: `Bench Rider ${i}`, email: `rider${i}@bench.example` })) as { id: string };
      riderIds[i] = rider.id;
    });
    await inParallel(driverCount, 16, async (i) => {
      await http.expect(201, 'POST', `${services.urls.driver}/drivers`, { name: `Bench Driver ${i}`, email: `driver${i}@bench.example`, location: spot(i) });
    });
    log(`seeded ${riderCount} riders and ${driverCount} AVAILABLE drivers in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);

    const inFlight = new Map<string, InFlight>();
    const early = new Map<string, { outcome: RideOutcome; at: number }>();
    const failures = { throughput: noFailures(), latency: noFailures() };
    let onConfirmed: (f: InFlight, at: number) => void = () => undefined;
    const settle = (rideId: string, outcome: RideOutcome, at: number): void => {
      const f = inFlight.get(rideId);
      if (!f) {
        // The outcome beat the 202 to us (or it belongs to no saga of this run): keep it for the POST's answer.
        early.set(rideId, { outcome, at });
        return;
      }
      inFlight.delete(rideId);
      if (outcome === 'ride.confirmed') onConfirmed(f, at);
      else if (outcome === 'ride.rejected') failures[f.phase].rejected++;
      else failures[f.phase].cancelled++;
      afterSettle();
    };
    let afterSettle: () => void = () => undefined;
    tap.onOutcome(settle);

    let nextSaga = 0;
    let posting = 0;
    const startSaga = (phase: InFlight['phase']): void => {
      const i = nextSaga++;
      const pickup = spot(i);
      const body = { riderId: riderIds[i % riderCount], pickup, dropoff: { lat: pickup.lat + 0.02, lng: pickup.lng + 0.01 }, paymentMethod: 'pm_card_visa' };
      const t0 = performance.now();
      posting++;
      http
        .request('POST', `${services.urls.ride}/rides`, body)
        .then((res) => {
          posting--;
          const rideId = res.status === 202 && typeof res.body === 'object' && res.body !== null ? (res.body as { rideId?: unknown }).rideId : undefined;
          if (typeof rideId !== 'string') {
            failures[phase].http++;
            if (failures[phase].http <= 3) log(`  POST /rides answered ${res.status}: ${JSON.stringify(res.body).slice(0, 200)}`);
            afterSettle();
            return;
          }
          inFlight.set(rideId, { t0, phase });
          const came = early.get(rideId);
          if (came) {
            early.delete(rideId);
            settle(rideId, came.outcome, came.at);
          }
        })
        .catch((err: unknown) => {
          posting--;
          failures[phase].http++;
          if (failures[phase].http <= 3) log(`  POST /rides failed: ${(err as Error).message}`);
          afterSettle();
        });
    };
    const busy = () => inFlight.size + posting;

    // Throughput: `inflight` sagas at once, each settled one replaced, until the saga or time budget is spent.
    let counting = false;
    let completedCounted = 0;
    let refill = true;
    let started = 0;
    const phaseStart = performance.now();
    onConfirmed = () => {
      if (counting) completedCounted++;
    };
    afterSettle = () => {
      if (!refill) return;
      if (started >= options.throughputSagas || performance.now() - phaseStart > options.throughputSeconds * 1000) {
        refill = false;
        return;
      }
      started++;
      startSaga('throughput');
    };
    for (let k = 0; k < options.inflight && started < options.throughputSagas; k++) {
      started++;
      startSaga('throughput');
    }
    await waitFor(() => !refill || performance.now() - phaseStart > options.warmupSeconds * 1000, options.throughputSeconds * 1000 + 60_000, 'the warm-up');
    counting = true;
    const countFrom = performance.now();
    await waitFor(() => !refill, options.throughputSeconds * 1000 + 60_000, 'the throughput phase');
    const seconds = (performance.now() - countFrom) / 1000;
    counting = false;
    const sagasPerSecond = completedCounted / seconds;
    await waitFor(() => busy() === 0, 60_000, 'the throughput phase sagas to settle').catch(() => {
      failures.throughput.lost += inFlight.size;
      inFlight.clear();
    });
    log(
      `throughput phase: ${started} sagas started, ${completedCounted} confirmed in the ${seconds.toFixed(1)} s measured after ${options.warmupSeconds} s warm-up`,
    );

    let latency: SagaBenchResult['latency'] = null;
    if (options.latencySeconds > 0) {
      await waitQuiet(probe, serviceQueues(options.brokerPrefix), 60_000);
      const samples: number[] = [];
      onConfirmed = (f, at) => samples.push(at - f.t0);
      afterSettle = () => undefined;
      const offered = await offerAtRate(options.latencyRate, options.latencySeconds * 1000, () => startSaga('latency'));
      await waitFor(() => busy() === 0, 30_000, 'the latency phase sagas to settle').catch(() => {
        failures.latency.lost += inFlight.size;
        inFlight.clear();
      });
      latency = { rate: options.latencyRate, offered, summary: summarize(samples), failures: failures.latency };
    }

    await waitQuiet(probe, serviceQueues(options.brokerPrefix), 30_000).catch((err: unknown) => log(`  ${(err as Error).message}`));
    const parked = await countMessages(probe, serviceQueues(options.brokerPrefix).map((q) => `${q}.dlq`));
    return {
      mode: services.mode,
      store: services.store,
      drivers: driverCount,
      throughput: { sagasPerSecond, completed: completedCounted, seconds, inflight: options.inflight, failures: failures.throughput },
      latency,
      parked,
      serviceWarnings: services.serviceWarnings,
    };
  } finally {
    http.close();
    if (tap) await tap.close().catch(() => undefined);
    await probe.close().catch(() => undefined);
    await stopQuietly(services, log);
  }
}

function noFailures(): PhaseFailures {
  return { http: 0, rejected: 0, cancelled: 0, lost: 0 };
}

async function stopQuietly(services: BenchServices, log: (line: string) => void): Promise<void> {
  try {
    await services.stop();
  } catch (err) {
    log(`  stopping the services failed: ${(err as Error).message}`);
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

/** Until the services' queues stay empty for a few checks in a row: the previous phase's tail no longer competes for CPU. */
async function waitQuiet(connection: amqp.ChannelModel, queues: string[], timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let emptyChecks = 0;
  while (emptyChecks < 5) {
    if (performance.now() > deadline) throw new Error(`the services' queues were not empty within ${timeoutMs} ms`);
    emptyChecks = (await countMessages(connection, queues)) === 0 ? emptyChecks + 1 : 0;
    await sleep(100);
  }
}
