// End-to-end lane: the four services as separate processes on the real broker (and MongoDB when there is one).
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { waitFor } from '@ridehail/shared';
import { SagaApi } from '../support/system/api';
import { formatAudit, runAudit, type AuditReport } from '../support/system/audit';
import {
  competingRequests,
  completion,
  flakyPayment,
  happyPath,
  immediateCancel,
  noDriver,
  paymentDeclined,
  riderCancel,
  seedWorld,
  type ScenarioContext,
  type ScenarioResult,
  type World,
} from '../support/system/scenarios';

import { openTap, type Tap } from '../support/system/tap';
import { announceLane } from '../support/lanes';
import { resolveMongo, type MongoTarget } from '../support/mongo';
import { resolveRabbit, uniquePrefix, unreachableReason, type RabbitTarget } from '../support/rabbit';
import { releaseLaneResources } from '../support/stack';
import { startStack, type Stack } from '../support/system/stack';

const verbose = process.env['E2E_VERBOSE'] === '1';

function expectAsDesigned(result: ScenarioResult): void {
  const where = `${result.title}, ride ${result.rideId}: ${result.problems.join('; ')}`;
  expect(result.problems, where).to.deep.equal([]);
}

describe('the saga end to end: four services as separate processes on the real broker', function () {
  this.timeout(60_000);
  const run = randomBytes(3).toString('hex');
  const brokerPrefix = uniquePrefix('e2e');
  const mongoDbPrefix = `e2e_${run}_`;
  let rabbit: RabbitTarget | undefined;
  let mongo: MongoTarget | null = null;
  let stack: Stack | undefined;
  let tap: Tap | undefined;
  let api: SagaApi;
  let world: World;
  let ctx: ScenarioContext;
  const logTail: string[] = [];

  before(async function () {
    this.timeout(150_000);
    rabbit = await resolveRabbit();
    const unreachable = await unreachableReason(rabbit.url);
    if (unreachable) {
      announceLane('e2e', 'did not run', `no broker: ${unreachable}`);
      throw new Error(`the e2e lane needs RabbitMQ: ${unreachable}`);
    }
    mongo = await resolveMongo();
    const starting = startStack({
      amqpUrl: rabbit.url,
      mongoUrl: mongo?.url,
      brokerPrefix,
      mongoDbPrefix,
      ports: 'free',
      logLevel: verbose ? 'debug' : 'warn',
      // Short retry delays keep the flaky-payment path (two transient failures) to about a second.
      env: { RETRY_DELAYS_MS: '200,500,1000', MAX_ATTEMPTS: '5', SHUTDOWN_TIMEOUT_MS: '10000' },
      output: (service, line) => {
        logTail.push(`[${service.name}] ${line}`);
        if (logTail.length > 200) logTail.shift();
        if (verbose) process.stdout.write(`[${service.name}] ${line}\n`);
      },
      readyTimeoutMs: 120_000,
      // Two processes per service on one queue and one store, as in production (DESIGN §5); in-memory stores cannot be shared.
      replicas: mongo ? 2 : 1,
    });
    stack = await starting.catch((err: unknown) => {
      announceLane('e2e', 'did not run', `the services did not start: ${(err as Error).message.split('\n')[0] ?? ''}`);
      throw err;
    });
    announceLane(
      'e2e',
      'ran',
      mongo
        ? `${mongo.url}, 2 replicas of each service`
        : 'memory (no MONGO_URL and no Docker: in-memory stores in each process, one replica each)',
    );
    api = new SagaApi(stack.urls);
    tap = await openTap({ amqpUrl: rabbit.url, brokerPrefix, name: 'e2e.tap' });
    world = await seedWorld(api, { drivers: 6, radiusKm: 5, tag: run });
    ctx = { api, tap, timeoutMs: 15_000, progress: verbose ? (key, line) => process.stdout.write(`  [${key}] ${line}\n`) : undefined };
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed' && !verbose)
      process.stdout.write(`last service log lines:\n${logTail.slice(-40).join('\n')}\n`);
  });

  after(async function () {
    this.timeout(60_000);
    if (tap) await tap.close();
    const codes = stack ? await stack.stop() : {};
    await releaseLaneResources({ rabbit, brokerPrefix, mongo, mongoDbPrefix });
    // Each process shut down gracefully on SIGTERM (DESIGN §5), checked after cleanup so a failure leaves nothing behind.
    for (const [name, code] of Object.entries(codes)) expect(code, `${name} exit code after SIGTERM`).to.equal(0);
  });

  it('confirms a ride with a driver nearby and a working card (happy path)', async () => {
    expectAsDesigned(await happyPath(ctx, world));
  });

  it('rejects a ride with no driver within range, charging nothing', async () => {
    expectAsDesigned(await noDriver(ctx, world));
  });

  it('cancels a ride whose card is declined and releases its driver', async () => {
    expectAsDesigned(await paymentDeclined(ctx, world));
  });

  it('confirms a ride whose payment fails twice transiently, through the retry path', async () => {
    expectAsDesigned(await flakyPayment(ctx, world));
  });

  it("cancels a confirmed ride on the rider's request: driver released, authorization voided", async () => {
    expectAsDesigned(await riderCancel(ctx, world));
  });

  it('leaves nothing held or charged when the rider cancels right after requesting', async () => {
    expectAsDesigned(await immediateCancel(ctx, world));
  });

  it('completes a ride: payment captured, driver free, receipt sent, and takes a rating', async () => {
    expectAsDesigned(await completion(ctx, world, { stars: 4, comment: 'e2e' }));
  });

  it('gives 5 drivers to exactly 5 of 20 concurrent requests and rejects the rest', async () => {
    const result = await competingRequests(ctx, { requests: 20, drivers: 5, radiusKm: 5, tag: `${run}c` });
    expect(result.problems).to.deep.equal([]);
  });

  it('holds every invariant once quiet (the audit)', async () => {
    let report: AuditReport | undefined;
    await waitFor(
      async () => {
        report = await runAudit(api.urls, { messages: tap?.messages, riderIds: [world.rider.id] });
        return report.held;
      },
      { timeoutMs: 20_000, intervalMs: 500, description: 'the audit to hold' },
    ).catch(() => undefined);
    expect(report, 'audit ran').to.not.equal(undefined);
    expect(report?.held, formatAudit(report!).join('\n')).to.equal(true);
    expect(report?.counts.rides).to.be.at.least(27);
    expect(tap?.rejected, 'every message on the exchanges is a valid envelope').to.deep.equal([]);
  });
});
