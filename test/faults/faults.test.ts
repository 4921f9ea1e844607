// Faults lane (DESIGN §8): two replicas per service; one killed mid-saga, every broker connection cut, duplicates, reordering, poison.
import { randomBytes, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { GetMessage } from 'amqplib';
import { createEnvelope, redactAmqpUrl, waitFor, type RawEnvelope } from '@ridehail/shared';
import { SagaApi } from '../support/system/api';
import { formatAudit, runAudit, type AuditReport } from '../support/system/audit';
import type { RideView } from '../support/system/http';
import {
  completion,
  happyPath,
  noDriver,
  offset,
  paymentDeclined,
  riderCancel,
  seedWorld,
  type ScenarioResult,
  type World,
} from '../support/system/scenarios';
import { serviceByKey, serviceKeys, serviceName, services, type ServiceKey } from '../support/system/services';
import { openTap, type Tap, type TappedMessage } from '../support/system/tap';
import {
  Injector,
  bindingKeys,
  connectionsNamed,
  counterOf,
  counters,
  countersReached,
  cutConnections,
  everyReplicaReady,
  withNewId,
  type Counters,
} from '../support/faults';
import { announceLane } from '../support/lanes';
import { releaseLaneResources } from '../support/stack';
import { resolveMongo, type MongoTarget } from '../support/mongo';
import { ReplicaSet } from '../support/replicaSet';
import { managementUnreachableReason, resolveRabbit, uniquePrefix, unreachableReason, type RabbitTarget } from '../support/rabbit';
import { startSmtpSink, type SmtpSink } from '../support/smtpSink';

const verbose = process.env['FAULTS_VERBOSE'] === '1';

/** What a quiet saga looks like from the outside, for before/after comparisons. */
interface Snapshot {
  rides: { id: string; status: string; driver: string | undefined; fare: unknown; reason: unknown; history: string[] }[];
  payments: { id: string; rideId: string; status: string; amount: number }[];
  notifications: { id: string; rideId: string; recipient: string; template: string; status: string }[];
  riderTrips: unknown;
  driverTrips: unknown[];
  drivers: { id: string; status: string; currentRideId: string | undefined }[];
  emails: number;
}

function driverOf(ride: RideView): string | undefined {
  if (ride.driver === null || ride.driver === undefined) return undefined;
  return typeof ride.driver === 'string' ? ride.driver : ride.driver.id;
}

function expectAsDesigned(result: ScenarioResult): void {
  expect(result.problems, `${result.title}, ride ${result.rideId}: ${result.problems.join('; ')}`).to.deep.equal([]);
}

describe('the saga under faults: crashes, broker cuts, duplicates, reordering and poison messages', function () {
  this.timeout(60_000);
  const run = randomBytes(3).toString('hex');
  const brokerPrefix = uniquePrefix('faults');
  const mongoDbPrefix = `faults_${run}_`;
  const serviceConnectionNames = services.map((s) => `${brokerPrefix}${s.name}`);
  let rabbit: RabbitTarget | undefined;
  let brokerReachable = false;
  let mongo: MongoTarget | null = null;
  let sink: SmtpSink | undefined;
  let stack: ReplicaSet | undefined;
  /** Processes per service: two, sharing one queue and one MongoDB; one when the stores are in memory (not shared). */
  let replicas = 1;
  let tap: Tap | undefined;
  let injector: Injector | undefined;
  let api: SagaApi;
  /** Messages this test published itself: the services' own output is everything else on the tap. */
  const injected = new Set<string>();
  /**
   * Ride ids made up by the reordering scenario: ride-service never heard of them. With two replicas the scenario's two
   * messages may be handled side by side, so a driver may be reserved and released, a payment authorized and voided,
   * and ride-service gets events about a ride it does not know. That residue is why the scenario runs after the
   * poison one (whose retry counters it would disturb) and is left out of the audit and of the parked-message check.
   */
  const syntheticRides = new Set<string>();
  const riderIds: string[] = [];
  /** Parked messages that no scenario put there on purpose (each one is a message the saga lost). */
  const unexpectedParked: string[] = [];
  const logTail: string[] = [];
  let failures = 0;

  const queueOf = (key: ServiceKey) => `${brokerPrefix}${serviceName(key)}`;
  const dlqOf = (key: ServiceKey) => `${brokerPrefix}${serviceName(key)}.dlq`;
  const exchangeOf = (key: ServiceKey) => `${brokerPrefix}${serviceByKey(key).exchange}`;

  function live(): { rabbit: RabbitTarget; stack: ReplicaSet; tap: Tap; injector: Injector; sink: SmtpSink } {
    if (!rabbit || !stack || !tap || !injector || !sink) throw new Error('the lane did not start');
    return { rabbit, stack, tap, injector, sink };
  }

  /** The services' own messages on the broker (what the audit's "published twice" check should judge). */
  const servicesMessages = (): TappedMessage[] => live().tap.messages.filter((m) => !injected.has(m.envelope.id));

  /** Invariants 1-6 hold once quiet; violations about the reordering scenario's made-up rides are its expected residue. */
  async function expectAuditHolds(when: string, timeoutMs = 25_000): Promise<void> {
    let report: AuditReport | undefined;
    const relevant = (r: AuditReport): AuditReport => {
      const invariants = r.invariants.map((inv) => {
        const violations = inv.violations.filter((v) => !(v.rideId && syntheticRides.has(v.rideId)));
        return { ...inv, violations, held: violations.length === 0 };
      });
      const exitCode = invariants.reduce((code, inv) => (inv.held ? code : code | (1 << (inv.id - 1))), 0);
      return { ...r, invariants, exitCode, held: exitCode === 0 };
    };
    await waitFor(
      async () => {
        report = relevant(await runAudit(api.urls, { messages: servicesMessages(), riderIds }));
        return report.held;
      },
      { timeoutMs, intervalMs: 500, description: `the audit to hold ${when}` },
    ).catch(() => undefined);
    expect(report, 'the audit ran').to.not.equal(undefined);
    expect(report?.held, `audit ${when}:\n${report ? formatAudit(report).join('\n') : ''}`).to.equal(true);
  }

  /**
   * Waits until every ride ended as DESIGN §2 says for a driver nearby and a working card: CONFIRMED, its own driver
   * ON_TRIP on it, one AUTHORIZED payment, both ride-confirmed emails SENT. Throws with what is still missing.
   */
  async function expectAllConfirmed(rideIds: string[], timeoutMs: number): Promise<void> {
    let missing: string[] = [];
    const check = async (ride: RideView): Promise<string | undefined> => {
      if (ride.status !== 'CONFIRMED') return `ride ${ride.id} is ${ride.status}`;
      const driverId = driverOf(ride);
      if (!driverId) return `ride ${ride.id} is CONFIRMED without a driver`;
      const [driver, payments, notifications] = await Promise.all([
        api.getDriver(driverId),
        api.listPayments({ rideId: ride.id }),
        api.listNotifications({ rideId: ride.id }),
      ]);
      if (driver.status !== 'ON_TRIP' || driver.currentRideId !== ride.id)
        return `ride ${ride.id}: driver ${driverId} is ${driver.status} on ${driver.currentRideId ?? 'nothing'}`;
      if (payments.map((p) => p.status).join() !== 'AUTHORIZED')
        return `ride ${ride.id}: payments [${payments.map((p) => p.status).join(', ')}]`;
      const sent = notifications.filter((n) => n.template === 'ride-confirmed' && n.status === 'SENT').length;
      if (sent !== 2) return `ride ${ride.id}: ${sent} ride-confirmed emails SENT`;
      return undefined;
    };
    let rides: RideView[] = [];
    await waitFor(
      async () => {
        rides = await Promise.all(rideIds.map((id) => api.getRide(id)));
        missing = (await Promise.all(rides.map(check))).filter((m): m is string => m !== undefined);
        return missing.length === 0;
      },
      { timeoutMs, intervalMs: 250, description: `${rideIds.length} rides to be CONFIRMED, driven, authorized and notified` },
    ).catch((err: unknown) => {
      throw new Error(`${err instanceof Error ? err.message : String(err)}; still: ${missing.join('; ')}`);
    });
    const drivers = rides.map(driverOf);
    expect(new Set(drivers).size, `each ride has its own driver: ${drivers.join(', ')}`).to.equal(rideIds.length);
  }

  /** Requests `count` rides at once around the world's centre (each in range of every driver). */
  function requestRides(world: World, count: number): Promise<string>[] {
    return Array.from({ length: count }, (_, i) =>
      api
        .requestRide({
          riderId: world.rider.id,
          pickup: offset(world.center, (i % 3) * 0.2, (i % 4) * 0.2),
          dropoff: offset(world.center, 3, 2),
          paymentMethod: 'pm_card_visa',
        })
        .then((accepted) => accepted.rideId),
    );
  }

  async function snapshot(rideIds: string[], world: World): Promise<Snapshot> {
    const rides = await Promise.all(rideIds.map((id) => api.getRide(id)));
    const payments = (await Promise.all(rideIds.map((id) => api.listPayments({ rideId: id })))).flat();
    const notifications = (await Promise.all(rideIds.map((id) => api.listNotifications({ rideId: id })))).flat();
    const recipients = new Set(notifications.map((n) => n.recipient.toLowerCase()));
    return {
      rides: rides.map((r) => ({
        id: r.id,
        status: r.status,
        driver: driverOf(r),
        fare: r.fare,
        reason: r.reason,
        history: r.history.map((h) => h.status),
      })),
      payments: payments
        .map((p) => ({ id: p.id, rideId: p.rideId, status: p.status, amount: p.amount }))
        .sort((a, b) => a.id.localeCompare(b.id)),
      notifications: notifications
        .map((n) => ({ id: n.id, rideId: n.rideId, recipient: n.recipient, template: n.template, status: n.status }))
        .sort((a, b) => a.id.localeCompare(b.id)),
      riderTrips: await api.allRiderTrips(world.rider.id),
      driverTrips: await Promise.all(world.drivers.map((d) => api.allDriverTrips(d.id))),
      drivers: (await Promise.all(world.drivers.map((d) => api.getDriver(d.id)))).map((d) => ({
        id: d.id,
        status: d.status,
        currentRideId: d.currentRideId ?? undefined,
      })),
      emails: live().sink.messages.filter((m) => m.to.some((to) => recipients.has(to.toLowerCase()))).length,
    };
  }

  /** Takes every message parked in the four DLQs; the ones `expected` does not claim are recorded as lost. */
  async function drainParked(expected: (key: ServiceKey, msg: GetMessage) => boolean): Promise<Map<ServiceKey, GetMessage[]>> {
    const taken = new Map<ServiceKey, GetMessage[]>();
    for (const key of serviceKeys) {
      const mine: GetMessage[] = [];
      for (const msg of await live().injector.drain(dlqOf(key))) {
        if (expected(key, msg)) {
          mine.push(msg);
          continue;
        }
        // Events about the reordering scenario's made-up rides reach ride-service, which never heard of those rides,
        // retries and parks them: that is the residue of the scenario, not a message lost to a saga.
        if (syntheticRides.has(String(msg.properties.correlationId))) continue;
        const headers = msg.properties.headers ?? {};
        unexpectedParked.push(
          `${dlqOf(key)}: ${String(msg.properties.type)} ${String(msg.properties.messageId)} of ride ${String(msg.properties.correlationId)}: ${String(headers['x-parking-reason'])}`,
        );
      }
      taken.set(key, mine);
    }
    return taken;
  }

  before(async function () {
    this.timeout(150_000);
    rabbit = await resolveRabbit();
    const unreachable = await unreachableReason(rabbit.url);
    if (unreachable) {
      announceLane('faults', 'did not run', `no broker: ${unreachable}`);
      this.skip();
    }
    brokerReachable = true;
    const noManagement = await managementUnreachableReason(rabbit);
    if (noManagement) {
      // Cutting connections from the broker side and reading bindings need the management plugin.
      announceLane('faults', 'did not run', noManagement);
      this.skip();
    }
    mongo = await resolveMongo();
    sink = await startSmtpSink();
    // In-memory stores live in each process: replicas would not share them, so without MongoDB one process per service.
    replicas = mongo ? 2 : 1;
    stack = await ReplicaSet.start({
      replicas,
      stack: {
        amqpUrl: rabbit.url,
        mongoUrl: mongo?.url,
        brokerPrefix,
        mongoDbPrefix,
        smtpUrl: sink.url,
        // Short retry delays: a handler failing around a fault retries within about a second.
        env: { RETRY_DELAYS_MS: '200,400,800', MAX_ATTEMPTS: '5', SHUTDOWN_TIMEOUT_MS: '10000' },
        readyTimeoutMs: 120_000,
      },
      logLevel: () => (verbose ? 'debug' : 'warn'),
      output: (replica, start, line) => {
        const tagged = `[${replica.label}${start > 1 ? ` start ${start}` : ''}] ${line}`;
        logTail.push(tagged);
        if (logTail.length > 300) logTail.shift();
        if (verbose) process.stdout.write(`${tagged}\n`);
      },
    });
    announceLane(
      'faults',
      'ran',
      `${redactAmqpUrl(rabbit.url)} + ${
        mongo
          ? `${mongo.url}, ${replicas} replicas of each service`
          : 'memory (no MONGO_URL and no Docker: in-memory stores in each process, ONE replica per service)'
      }`,
    );
    // Every HTTP call goes to the next replica of its service that is up (round-robin): any replica answers (DESIGN §5).
    api = new SagaApi(stack.urls);
    tap = await openTap({ amqpUrl: rabbit.url, brokerPrefix, name: 'faults.tap' });
    injector = await Injector.open(rabbit.url, `${brokerPrefix}faults.injector`);
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') failures += 1;
    if (this.currentTest?.state === 'failed' && !verbose)
      process.stdout.write(`last service log lines:\n${logTail.slice(-60).join('\n')}\n`);
  });

  after(async function () {
    this.timeout(60_000);
    if (injector) await injector.close();
    if (tap) await tap.close();
    const codes = stack ? await stack.stop() : {};
    if (sink) await sink.stop();
    await releaseLaneResources({ rabbit, brokerPrefix, declared: brokerReachable, mongo, mongoDbPrefix });
    // Graceful shutdown (DESIGN §5) is judged only after a clean run: a failed scenario may leave a service stuck.
    if (failures > 0) process.stdout.write(`exit codes after SIGTERM, following ${failures} failure(s): ${JSON.stringify(codes)}\n`);
    else for (const [name, code] of Object.entries(codes)) expect(code, `${name} exit code after SIGTERM`).to.equal(0);
  });

  describe('a driver-service replica killed (SIGKILL) while 10 sagas are in flight, the other consuming on, then started again', () => {
    it('ends every saga CONFIRMED with its own driver, one authorization and both emails', async function () {
      // What the killed process left half done waits for MongoDB to abort its open transaction (transactionLifetimeLimitSeconds,
      // 60 s by default) and for its outbox lease (OUTBOX_LEASE_MS, 10 s by default) to expire.
      this.timeout(210_000);
      if (!mongo) {
        announceLane('faults (kill scenario)', 'did not run', 'in-memory stores die with the process: it needs MONGO_URL or Docker');
        this.skip();
      }
      const { stack: s, tap: t } = live();
      const world = await seedWorld(api, { drivers: 10, radiusKm: 5, tag: `${run}k` });
      riderIds.push(world.rider.id);
      const isDecision = (m: TappedMessage) =>
        (m.envelope.type === 'driver.assigned' || m.envelope.type === 'driver.unavailable') &&
        (m.envelope.payload as { riderId?: unknown }).riderId === world.rider.id;
      const rideIds = await Promise.all(requestRides(world, 10));
      // Killed as soon as driver-service has decided one ride: the others are queued, in the replicas' hands, or in an outbox.
      await waitFor(() => t.messages.some(isDecision), {
        timeoutMs: 15_000,
        intervalMs: 5,
        description: 'driver-service to decide a first ride',
      });
      // The first replica: the broker hands the queue's deliveries to the replicas in turn, so it dies holding some.
      const [victim, ...others] = s.up('driver');
      if (!victim) throw new Error('no driver-service replica is up');
      const killedAt = Date.now();
      const ended = await s.kill(victim);
      const decidedBeforeKill = new Set(t.messages.filter(isDecision).map((m) => m.envelope.correlationId)).size;
      if (verbose) process.stdout.write(`  ${victim.label} killed after driver-service decided ${decidedBeforeKill} of 10 rides\n`);
      expect(ended, `${victim.label} died of the signal`).to.equal('SIGKILL');

      if (others.length > 0) {
        // The rides decided before the kill still send driver-service their ride.confirmed: someone must take them.
        const consumedAtKill = await counterOf(others, 'messages_consumed_total');
        await waitFor(async () => (await counterOf(others, 'messages_consumed_total')) > consumedAtKill, {
          timeoutMs: 60_000,
          intervalMs: 250,
          description: `${others.map((r) => r.label).join(', ')} to consume on while ${victim.label} is down`,
        });
        if (verbose) process.stdout.write(`  the other replica consumed on ${Date.now() - killedAt} ms after the kill\n`);
      }
      await s.restart(victim);
      await expectAllConfirmed(rideIds, 85_000);
      if (verbose) process.stdout.write(`  all 10 confirmed ${Date.now() - killedAt} ms after the kill\n`);
      // The rows the dead relay had claimed go out once their lease expires: the outbox drains after that.
      await expectAuditHolds('after the crash and restart', 45_000);
      if (verbose) process.stdout.write(`  the audit held ${Date.now() - killedAt} ms after the kill\n`);
    });
  });

  describe('every replica of every service losing its broker connection (closed from the broker side) mid-saga', () => {
    it('reconnects (readyz 200 again) and finishes all 10 sagas, losing nothing', async function () {
      this.timeout(60_000);
      const { rabbit: r, stack: s } = live();
      const world = await seedWorld(api, { drivers: 10, radiusKm: 5, tag: `${run}c` });
      riderIds.push(world.rider.id);
      // The replicas of a service share its connection name: one connection per replica under each name.
      const perName = (found: { connectionName: string }[], n: string) => found.filter((c) => c.connectionName === n).length;
      const before = await waitFor(
        async () => {
          const found = await connectionsNamed(r, serviceConnectionNames);
          return serviceConnectionNames.every((n) => perName(found, n) >= replicas) ? found : false;
        },
        {
          timeoutMs: 15_000,
          intervalMs: 250,
          description: `the management API to list the connections of the ${replicas} replica(s) of each service`,
        },
      );

      const requests = requestRides(world, 10);
      await Promise.race(requests);
      await cutConnections(r, before);
      const rideIds = await Promise.all(requests);

      const cut = new Set(before.map((c) => c.name));
      await waitFor(
        async () => {
          const fresh = (await connectionsNamed(r, serviceConnectionNames)).filter((c) => !cut.has(c.name));
          if (!serviceConnectionNames.every((n) => perName(fresh, n) >= replicas)) return false;
          return everyReplicaReady(s);
        },
        { timeoutMs: 30_000, intervalMs: 250, description: 'every replica to reconnect with a new connection and be ready' },
      );
      await expectAllConfirmed(rideIds, 30_000);
      await expectAuditHolds('after the broker connections were cut');
    });
  });

  describe('duplicates: every delivered event of finished sagas published again, same id and new id', () => {
    it('changes nothing: one payment per ride, one notification per ride, recipient and template, summaries unchanged', async function () {
      this.timeout(90_000);
      const { rabbit: r, tap: t, injector: inj } = live();
      const world = await seedWorld(api, { drivers: 4, radiusKm: 5, tag: `${run}d` });
      riderIds.push(world.rider.id);
      const ctx = { api, tap: t, timeoutMs: 15_000 };
      const results: ScenarioResult[] = [];
      results.push(await completion(ctx, world, { stars: 4, comment: 'faults lane' }));
      results.push(await riderCancel(ctx, world));
      results.push(await paymentDeclined(ctx, world));
      results.push(await noDriver(ctx, world));
      results.push(await happyPath(ctx, world));
      for (const result of results) expectAsDesigned(result);
      await expectAuditHolds('before the duplicates');

      const rideIds = results.map((x) => x.rideId);
      const before = await snapshot(rideIds, world);
      const seen = new Map<string, TappedMessage>();
      for (const id of rideIds) for (const m of t.forRide(id)) if (!injected.has(m.envelope.id)) seen.set(m.envelope.id, m);
      const originals = [...seen.values()];
      const seenBefore = new Set(seen.keys());

      // Which service consumes what: the queues' bindings on each exchange, as the services declared them.
      const expected = Object.fromEntries(serviceKeys.map((k) => [k, 0])) as Counters;
      const keysOf = new Map<string, string[]>();
      for (const key of serviceKeys) {
        for (const source of serviceKeys)
          keysOf.set(`${key} ${exchangeOf(source)}`, await bindingKeys(r, queueOf(key), exchangeOf(source)));
      }
      for (const m of originals) {
        for (const key of serviceKeys) {
          const bound = keysOf.get(`${key} ${m.exchange}`) ?? [];
          if (bound.includes(m.routingKey) || bound.includes('#')) expected[key] += 2;
        }
      }
      const consumedBefore = await counters(live().stack, 'messages_consumed_total');
      // Redelivered copies in their original order, then the same facts under new ids from last to first (stale and
      // out of order: a late ride.confirmed after the cancellation, a ride.requested after the completion).
      for (const m of originals) {
        const again: RawEnvelope = { ...m.envelope };
        await inj.publishEnvelope(m.exchange, m.routingKey, again);
      }
      for (const m of [...originals].reverse()) {
        const renamed = withNewId(m.envelope);
        injected.add(renamed.id);
        await inj.publishEnvelope(m.exchange, m.routingKey, renamed);
      }
      await waitFor(() => countersReached(live().stack, 'messages_consumed_total', consumedBefore, expected), {
        timeoutMs: 30_000,
        intervalMs: 250,
        description: `the services to consume the ${originals.length * 2} duplicates (${JSON.stringify(expected)})`,
      });
      await expectAuditHolds('after the duplicates');

      const after = await snapshot(rideIds, world);
      expect(after.rides, 'rides').to.deep.equal(before.rides);
      expect(after.payments, 'payments').to.deep.equal(before.payments);
      expect(after.notifications, 'notifications').to.deep.equal(before.notifications);
      expect(after.riderTrips, 'the rider trip history').to.deep.equal(before.riderTrips);
      expect(after.driverTrips, 'the drivers trip histories').to.deep.equal(before.driverTrips);
      expect(after.drivers, 'the drivers').to.deep.equal(before.drivers);
      expect(after.emails, 'emails sent').to.equal(before.emails);
      const reactions = rideIds
        .flatMap((id) => t.forRide(id))
        .filter((m) => !injected.has(m.envelope.id) && !seenBefore.has(m.envelope.id));
      expect(
        reactions.map((m) => `${m.envelope.type} from ${m.envelope.source} (caused by ${m.envelope.causationId ?? '-'})`),
        'events the services published in reaction to the duplicates',
      ).to.deep.equal([]);
    });
  });

  describe('poison messages: invalid JSON, an invalid payload and an unknown type in each service queue', () => {
    it('parks each in <prefix><service>.dlq with x-parking-reason, without retries, and the service keeps consuming', async function () {
      this.timeout(45_000);
      const { injector: inj } = live();
      // A type each service consumes (DESIGN §2), so only the body makes the message poison.
      const consumes: Record<ServiceKey, string> = {
        ride: 'driver.assigned',
        driver: 'ride.requested',
        payment: 'driver.assigned',
        notification: 'ride.confirmed',
      };
      const sent = new Map<string, { key: ServiceKey; kind: string; body: Buffer }>();
      const retriedBefore = await counters(live().stack, 'messages_retried_total');
      for (const key of serviceKeys) {
        const rideId = randomUUID();
        const envelope = (type: string, payload: unknown): RawEnvelope => ({
          id: randomUUID(),
          type,
          version: 1,
          occurredAt: new Date().toISOString(),
          source: 'faults-lane',
          correlationId: rideId,
          payload,
        });
        const invalidPayload = envelope(consumes[key], { rideId: 42, pickup: { lat: 200, lng: 0 } });
        const unknownType = envelope('ride.teleported', { rideId });
        const poison = [
          { kind: 'invalid JSON', id: randomUUID(), type: consumes[key], body: Buffer.from('{"id": "half a message", "type": ', 'utf8') },
          {
            kind: 'invalid payload',
            id: invalidPayload.id,
            type: invalidPayload.type,
            body: Buffer.from(JSON.stringify(invalidPayload), 'utf8'),
          },
          { kind: 'unknown type', id: unknownType.id, type: unknownType.type, body: Buffer.from(JSON.stringify(unknownType), 'utf8') },
        ];
        for (const p of poison) {
          sent.set(p.id, { key, kind: p.kind, body: p.body });
          injected.add(p.id);
          await inj.publish('', queueOf(key), p.body, {
            messageId: p.id,
            type: p.type,
            correlationId: rideId,
            contentType: 'application/json',
            appId: 'faults-lane',
          });
        }
      }

      const parked = new Map<string, GetMessage>();
      await waitFor(
        async () => {
          const taken = await drainParked((key, msg) => sent.get(String(msg.properties.messageId))?.key === key);
          for (const list of taken.values()) for (const msg of list) parked.set(String(msg.properties.messageId), msg);
          return parked.size === sent.size;
        },
        { timeoutMs: 20_000, intervalMs: 250, description: `all ${sent.size} poison messages to be parked` },
      ).catch((err: unknown) => {
        const missing = [...sent].filter(([id]) => !parked.has(id)).map(([id, p]) => `${p.kind} in ${queueOf(p.key)} (${id})`);
        throw new Error(`${err instanceof Error ? err.message : String(err)}; not parked: ${missing.join(', ')}`);
      });
      for (const [id, p] of sent) {
        const msg = parked.get(id);
        const where = `${p.kind} parked by ${serviceName(p.key)}`;
        expect(msg?.content.equals(p.body), `${where}: body kept as it was`).to.equal(true);
        const headers = msg?.properties.headers ?? {};
        expect(headers['x-parking-reason'], `${where}: x-parking-reason`).to.be.a('string').and.not.equal('');
        expect(Number(headers['x-attempts']), `${where}: x-attempts (parked on its first attempt)`).to.equal(1);
      }
      expect(await counters(live().stack, 'messages_retried_total'), 'messages_retried_total (poison skips retries)').to.deep.equal(
        retriedBefore,
      );

      // Still consuming: a fresh saga goes through all four services.
      const world = await seedWorld(api, { drivers: 1, radiusKm: 5, tag: `${run}x` });
      riderIds.push(world.rider.id);
      expectAsDesigned(await happyPath({ api, tap: live().tap, timeoutMs: 15_000 }, world));
    });
  });

  describe('reordering: ride.cancelled reaching driver- and payment-service before the events it cancels', () => {
    it('reserves no driver when ride.requested comes after its cancellation', async function () {
      const { injector: inj, tap: t } = live();
      const world = await seedWorld(api, { drivers: 2, radiusKm: 5, tag: `${run}r` });
      const rideId = randomUUID();
      syntheticRides.add(rideId);
      const rider = { id: world.rider.id, name: world.rider.name, email: world.rider.email };
      const common = { source: 'ride-service', correlationId: rideId };
      const cancelled = createEnvelope({ ...common, type: 'ride.cancelled', payload: { rideId, rider, reason: 'rider_cancelled' } });
      const requested = createEnvelope({
        ...common,
        type: 'ride.requested',
        payload: {
          rideId,
          rider,
          pickup: world.center,
          dropoff: offset(world.center, 2, 2),
          paymentMethod: 'pm_card_visa',
          requestedAt: new Date().toISOString(),
        },
      });
      const consumedBefore = await counters(live().stack, 'messages_consumed_total');
      // Straight into driver-service's queue, in the wrong order (the default exchange routes by queue name).
      for (const env of [cancelled, requested]) {
        injected.add(env.id);
        await inj.publishEnvelope('', queueOf('driver'), env);
      }
      await waitFor(() => countersReached(live().stack, 'messages_consumed_total', consumedBefore, { driver: 2 }), {
        timeoutMs: 15_000,
        description: 'driver-service to consume the cancellation and the late request',
      });
      const drivers = await Promise.all(world.drivers.map((d) => api.getDriver(d.id)));
      expect(drivers.map((d) => ({ id: d.id, status: d.status, currentRideId: d.currentRideId ?? undefined }))).to.deep.equal(
        world.drivers.map((d) => ({ id: d.id, status: 'AVAILABLE', currentRideId: undefined })),
      );
      const assigned = t.forRide(rideId).filter((m) => m.envelope.type === 'driver.assigned');
      const released = t.forRide(rideId).filter((m) => m.envelope.type === 'driver.released');
      // "Reserves nothing, or is undone at once": an assignment may only appear with its release.
      expect(assigned.length, 'driver.assigned published for the cancelled ride without a release').to.equal(released.length);
    });

    it('charges nothing when driver.assigned comes after its cancellation', async function () {
      const { injector: inj, tap: t } = live();
      const world = await seedWorld(api, { drivers: 1, radiusKm: 5, tag: `${run}p` });
      const rideId = randomUUID();
      syntheticRides.add(rideId);
      const rider = { id: world.rider.id, name: world.rider.name, email: world.rider.email };
      const driver = world.drivers[0];
      if (!driver) throw new Error('seedWorld made no driver');
      const cancelled = createEnvelope({
        source: 'ride-service',
        correlationId: rideId,
        type: 'ride.cancelled',
        payload: { rideId, rider, reason: 'rider_cancelled' },
      });
      const assigned = createEnvelope({
        source: 'driver-service',
        correlationId: rideId,
        type: 'driver.assigned',
        payload: {
          rideId,
          driver: { id: driver.id, name: driver.name, email: driver.email },
          riderId: rider.id,
          pickup: world.center,
          dropoff: offset(world.center, 2, 2),
          paymentMethod: 'pm_card_visa',
          distanceKm: 0.5,
        },
      });
      const consumedBefore = await counters(live().stack, 'messages_consumed_total');
      for (const env of [cancelled, assigned]) {
        injected.add(env.id);
        await inj.publishEnvelope('', queueOf('payment'), env);
      }
      await waitFor(() => countersReached(live().stack, 'messages_consumed_total', consumedBefore, { payment: 2 }), {
        timeoutMs: 15_000,
        description: 'payment-service to consume the cancellation and the late assignment',
      });
      const payments = await api.listPayments({ rideId });
      expect(
        payments.filter((p) => p.status === 'AUTHORIZED' || p.status === 'CAPTURED'),
        `payments of cancelled ride ${rideId}`,
      ).to.deep.equal([]);
      const authorized = t.forRide(rideId).filter((m) => m.envelope.type === 'payment.authorized').length;
      const voided = t.forRide(rideId).filter((m) => m.envelope.type === 'payment.voided').length;
      expect(authorized, 'payment.authorized published for the cancelled ride without a void').to.equal(voided);
    });
  });

  describe('once quiet, after all the faults above', () => {
    it('holds invariants 1-6, every outbox drained, and nothing parked but the poison', async function () {
      this.timeout(45_000);
      await expectAuditHolds('at the end');
      await drainParked(() => false);
      expect(unexpectedParked, 'messages parked in a DLQ (lost to their saga)').to.deep.equal([]);
      expect(live().tap.rejected, 'every message on the exchanges is a valid envelope').to.deep.equal([]);
    });
  });
});
