// Cluster lane (DESIGN §8): the saga on a 3-node RabbitMQ cluster of its own, two replicas of each service, quorum
// queues; the node leading the service queues is SIGKILLed under load and started again; nothing may be lost.
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { connectToAnyNode, waitFor } from '@ridehail/shared';
import { SagaApi } from '../support/system/api';
import { formatAudit, runAudit, type AuditReport } from '../support/system/audit';
import { driverIdOf, type RideView } from '../support/system/http';
import { offset, seedWorld, type World } from '../support/system/scenarios';
import { services, type ServiceUrls } from '../support/system/services';
import { startStack, type Stack } from '../support/system/stack';
import { openTap, type Tap } from '../support/system/tap';
import { RabbitCluster, clusterUnavailableReason, type ClusterNode } from '../support/cluster';
import { announceLane } from '../support/lanes';
import { resolveMongo, type MongoTarget } from '../support/mongo';
import { uniquePrefix } from '../support/rabbit';
import { startSmtpSink, type SmtpSink } from '../support/smtpSink';
import { dropLaneDatabases } from '../support/stack';

const verbose = process.env['CLUSTER_VERBOSE'] === '1';

/** The sagas offered while the node dies: mostly happy paths, some declined cards, some that need two retries. */
const RIDES = 64;
const RIDES_PER_SECOND = 4;
/** When (ms into the load) the leading node is killed, and when it is started again (it takes ~8 s to boot here). */
const KILL_AT_MS = 3_000;
const RESTART_AT_MS = 6_000;

type Card = 'pm_card_visa' | 'pm_card_declined' | 'pm_card_flaky';
const cardOf = (i: number): Card => (i % 8 === 3 ? 'pm_card_declined' : i % 8 === 6 ? 'pm_card_flaky' : 'pm_card_visa');

interface Offered {
  rideId: string;
  card: Card;
  at: number;
}

describe('the saga on a 3-node RabbitMQ cluster: the node leading the service queues is killed under load and comes back', function () {
  this.timeout(60_000);
  const run = randomBytes(3).toString('hex');
  const brokerPrefix = uniquePrefix('cluster');
  const mongoDbPrefix = `cluster_${run}_`;
  const serviceQueues = services.map((s) => `${brokerPrefix}${s.name}`);
  let cluster: RabbitCluster | undefined;
  let mongo: MongoTarget | null = null;
  let sink: SmtpSink | undefined;
  let stack: Stack | undefined;
  let tap: Tap | undefined;
  let tapNode: ClusterNode | undefined;
  let api: SagaApi;
  /** One API per replica: rides are requested from both ride-service replicas in turn. */
  let replicaApis: SagaApi[] = [];
  let replicas = 2;
  const logTail: string[] = [];
  const say = (line: string) => process.stdout.write(`    cluster: ${line}\n`);

  before(async function () {
    this.timeout(240_000);
    const unavailable = clusterUnavailableReason();
    if (unavailable) {
      announceLane('cluster', 'did not run', unavailable);
      this.skip();
    }
    try {
      cluster = await RabbitCluster.start({ size: 3, log: say });
    } catch (err) {
      announceLane('cluster', 'did not run', `the 3-node cluster could not start: ${err instanceof Error ? err.message : String(err)}`);
      this.skip();
    }
    mongo = await resolveMongo();
    // In-memory stores live in each process: replicas would not share them, so without MongoDB one process per service.
    replicas = mongo ? 2 : 1;
    sink = await startSmtpSink();
    stack = await startStack({
      amqpUrl: cluster.amqpUrl,
      mongoUrl: mongo?.url,
      brokerPrefix,
      mongoDbPrefix,
      ports: 'free',
      replicas,
      smtpUrl: sink.url,
      logLevel: verbose ? 'info' : 'warn',
      // Short retry delays (the flaky card needs two retries); quorum queues, as by default.
      env: { RETRY_DELAYS_MS: '200,400,800', MAX_ATTEMPTS: '5', QUEUE_TYPE: 'quorum', SHUTDOWN_TIMEOUT_MS: '10000' },
      output: (service, line, _stream, replica) => {
        const tagged = `[${service.name}${replica ? `#${replica}` : ''}] ${line}`;
        logTail.push(tagged);
        if (logTail.length > 400) logTail.shift();
        if (verbose) process.stdout.write(`${tagged}\n`);
      },
      readyTimeoutMs: 120_000,
    });
    announceLane(
      'cluster',
      'ran',
      `a 3-node RabbitMQ cluster (${cluster.describe()}) + ${
        mongo
          ? `${mongo.source}, ${replicas} replicas of each service`
          : 'memory (no MONGO_URL and no Docker: in-memory stores, ONE replica per service)'
      }`,
    );
    api = new SagaApi(stack.urls);
    replicaApis = Array.from({ length: replicas }, (_, r) => {
      const urls = { ...stack!.urls };
      for (const p of stack!.processes) if (p.replica === r + 1) urls[p.service.key] = p.url;
      return new SagaApi(urls as ServiceUrls);
    });
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed' && !verbose)
      process.stdout.write(`last service log lines:\n${logTail.slice(-80).join('\n')}\n`);
  });

  after(async function () {
    this.timeout(120_000);
    const problems: string[] = [];
    const attempt = async (what: string, step: () => Promise<unknown>) => {
      try {
        await step();
      } catch (err) {
        problems.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
      }
    };
    if (tap) await attempt('closing the tap', () => tap!.close());
    if (stack) await attempt('stopping the services', () => stack!.stop());
    if (sink) await attempt('stopping the SMTP sink', () => sink!.stop());
    if (mongo) {
      await attempt('dropping the databases', () => dropLaneDatabases(mongo!.url, mongoDbPrefix));
      await attempt('releasing MongoDB', () => mongo!.stop());
    }
    // Last, whatever happened above: every node started here is stopped and its folder removed.
    if (cluster) await cluster.stop();
    if (problems.length > 0) process.stdout.write(`cluster lane cleanup: ${problems.join('; ')}\n`);
  });

  /** Which of the rides are not yet where DESIGN §2 says they end; an empty list when all are. */
  async function notYetEnded(offered: readonly Offered[]): Promise<string[]> {
    const check = async (o: Offered): Promise<string | undefined> => {
      const ride: RideView = await api.getRide(o.rideId);
      const [payments, notifications] = await Promise.all([
        api.listPayments({ rideId: o.rideId }),
        api.listNotifications({ rideId: o.rideId }),
      ]);
      const statuses = payments.map((p) => p.status).join(',');
      if (o.card === 'pm_card_declined') {
        if (ride.status !== 'CANCELLED' || ride.reason !== 'payment_declined')
          return `${o.rideId} (declined) is ${ride.status} ${ride.reason ?? ''}`;
        if (statuses !== 'DECLINED') return `${o.rideId} (declined): payments [${statuses}]`;
        const told = notifications.filter((n) => n.template === 'ride-cancelled' && n.status === 'SENT').length;
        if (told < 1) return `${o.rideId} (declined): ${told} ride-cancelled emails SENT`;
        return undefined;
      }
      if (ride.status !== 'CONFIRMED') return `${o.rideId} (${o.card}) is ${ride.status}`;
      const driverId = driverIdOf(ride);
      if (!driverId) return `${o.rideId} is CONFIRMED without a driver`;
      const driver = await api.getDriver(driverId);
      if (driver.status !== 'ON_TRIP' || driver.currentRideId !== o.rideId)
        return `${o.rideId}: driver ${driverId} is ${driver.status} on ${driver.currentRideId ?? 'nothing'}`;
      if (statuses !== 'AUTHORIZED') return `${o.rideId}: payments [${statuses}]`;
      const sent = notifications.filter((n) => n.template === 'ride-confirmed' && n.status === 'SENT').length;
      if (sent !== 2) return `${o.rideId}: ${sent} ride-confirmed emails SENT`;
      return undefined;
    };
    const results: (string | undefined)[] = [];
    // A few at a time: the services are busy enough.
    for (let i = 0; i < offered.length; i += 8) results.push(...(await Promise.all(offered.slice(i, i + 8).map(check))));
    return results.filter((r): r is string => r !== undefined);
  }

  /** Ready messages left in each of the service's queues of `kind`, read on a running node. */
  async function queueDepths(names: readonly string[]): Promise<Record<string, number>> {
    const live = cluster!.nodes.filter((n) => cluster!.isRunning(n));
    const conn = await connectToAnyNode(live.map((n) => n.url).join(','));
    const depths: Record<string, number> = {};
    try {
      const channel = await conn.createChannel();
      for (const name of names) depths[name] = (await channel.checkQueue(name)).messageCount;
      await channel.close();
    } finally {
      await conn.close();
    }
    return depths;
  }

  it('ends every saga as DESIGN §2 says, parks nothing and drains every outbox', async function () {
    this.timeout(200_000);
    const c = cluster!;
    const world: World = await seedWorld(api, { drivers: RIDES, radiusKm: 5, tag: `${run}c` });

    // The services declared their queues on the first node that answered: that node leads them.
    const before = await c.leaderOf(serviceQueues, brokerPrefix);
    const victim = before.node;
    say(`${victim.name} leads ${before.leads.length}/${serviceQueues.length} service queues; it will be killed under load`);
    // The tap listens on a node that stays up, so it sees every message the services publish.
    tapNode = c.nodes.find((n) => n !== victim);
    tap = await openTap({ amqpUrl: tapNode!.url, brokerPrefix, name: 'cluster.tap' });

    const started = Date.now();
    const since = () => `+${((Date.now() - started) / 1000).toFixed(1)} s`;
    const offered: Offered[] = [];
    const requests: Promise<void>[] = [];
    let killedAt = 0;
    let backAt = 0;
    let movedTo: string[] = [];
    const chaos = (async () => {
      await new Promise((resolve) => setTimeout(resolve, KILL_AT_MS));
      await c.kill(victim);
      killedAt = Date.now() - started;
      say(`${since()} SIGKILLed ${victim.name} with ${offered.length} sagas offered`);
      // Quorum queues elect new leaders among the surviving members (asked while the node is down and after).
      const elected = waitFor(
        async () => {
          const leaders = await c.leaders(brokerPrefix);
          movedTo = [...new Set(serviceQueues.map((q) => leaders.get(q) ?? '?'))];
          return movedTo.every((leader) => leader !== victim.name && leader !== '?');
        },
        { timeoutMs: 60_000, intervalMs: 500, description: `the service queues to elect leaders other than ${victim.name}` },
      ).then(() => say(`${since()} service queues led by ${movedTo.join(', ')}`));
      elected.catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, RESTART_AT_MS - (Date.now() - started))));
      say(`${since()} starting ${victim.name} again`);
      await c.restart(victim);
      backAt = Date.now() - started;
      say(`${since()} ${victim.name} accepts connections again`);
      await elected;
    })();
    // Awaited after the load; until then a failure must not surface as an unhandled rejection.
    chaos.catch(() => undefined);
    for (let i = 0; i < RIDES; i += 1) {
      const due = started + (i * 1000) / RIDES_PER_SECOND;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now())));
      const card = cardOf(i);
      const via = replicaApis[i % replicaApis.length] ?? api;
      requests.push(
        via
          .requestRide({
            riderId: world.rider.id,
            pickup: offset(world.center, (i % 3) * 0.2, (i % 4) * 0.2),
            dropoff: offset(world.center, 3, 2),
            paymentMethod: card,
          })
          .then((accepted) => void offered.push({ rideId: accepted.rideId, card, at: Date.now() - started })),
      );
    }
    await Promise.all(requests);
    say(`${since()} all ${RIDES} sagas offered`);
    await chaos;
    expect(killedAt, 'the node was killed while sagas were still being offered').to.be.below(RIDES * (1000 / RIDES_PER_SECOND));

    // The cluster is whole again, and the queues' leadership moved off the killed node while it was down.
    await waitFor(async () => (await c.runningNodes(victim)).length === c.nodes.length, {
      timeoutMs: 60_000,
      intervalMs: 1_000,
      description: `${victim.name} to rejoin the cluster`,
    });

    let missing: string[] = [];
    await waitFor(
      async () => {
        missing = await notYetEnded(offered);
        return missing.length === 0;
      },
      { timeoutMs: 120_000, intervalMs: 1_000, description: `${RIDES} sagas to end as DESIGN §2 says` },
    ).catch((err: unknown) => {
      throw new Error(`${err instanceof Error ? err.message : String(err)}; still: ${missing.slice(0, 10).join('; ')}`);
    });
    const endedAt = Date.now() - started;
    const confirmed = offered.filter((o) => o.card !== 'pm_card_declined');
    const drivers = await Promise.all(confirmed.map(async (o) => driverIdOf(await api.getRide(o.rideId))));
    expect(new Set(drivers).size, 'each confirmed ride has its own driver').to.equal(confirmed.length);

    // Invariants 1-6 of the audit, including 5: every outbox drained; and nothing parked, nothing waiting in a retry queue.
    let report: AuditReport | undefined;
    await waitFor(
      async () => {
        report = await runAudit(api.urls, { messages: tap!.messages, riderIds: [world.rider.id] });
        return report.held;
      },
      { timeoutMs: 30_000, intervalMs: 1_000, description: 'the audit to hold' },
    ).catch(() => undefined);
    expect(report?.held, `audit:\n${report ? formatAudit(report).join('\n') : '(did not run)'}`).to.equal(true);
    const leftovers: string[] = [];
    for (const s of services) {
      leftovers.push(`${brokerPrefix}${s.name}.dlq`);
      for (let level = 1; level <= 3; level += 1) leftovers.push(`${brokerPrefix}${s.name}.retry.${level}`);
    }
    const depths = await queueDepths(leftovers);
    const nonEmpty = Object.entries(depths).filter(([, n]) => n > 0);
    expect(nonEmpty, 'messages parked or stuck in a retry queue').to.deep.equal([]);
    expect(tap.rejected, 'every message on the exchanges is a valid envelope').to.deep.equal([]);

    // The sagas went on while the node was down: messages flowed between the kill and the node's return.
    const duringOutage = tap.messages.filter((m) => m.receivedAt >= started + killedAt && m.receivedAt <= started + backAt).length;
    expect(duringOutage, `messages published while ${victim.name} was down`).to.be.above(0);
    say(
      `${offered.length} sagas (${offered.filter((o) => o.card === 'pm_card_flaky').length} retried twice, ` +
        `${offered.filter((o) => o.card === 'pm_card_declined').length} declined) all ended as expected ${(endedAt / 1000).toFixed(1)} s after the first request`,
    );
    say(
      `${victim.name} down from +${(killedAt / 1000).toFixed(1)} s to +${(backAt / 1000).toFixed(1)} s, ` +
        `${duringOutage} of ${tap.messages.length} saga messages published meanwhile; nothing parked, outboxes drained`,
    );
  });
});
