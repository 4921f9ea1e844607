// Outbox relay + inbox end to end: committed outbox rows reach the consumer once, duplicates leave no second effect.
import { expect } from 'chai';
import { createEnvelope } from '../../src/envelope';
import { on, transactional } from '../../src/messaging/handler';
import { toAmqpMessage } from '../../src/wire';
import { OutboxRelay } from '../../src/messaging/relay';
import type { OutboxStore } from '../../src/store/port';
import { waitFor } from '../../src/waitFor';
import { counterValue, effectCount, effects, startTestService, type TestService } from './service';
import { recordOf, rideRequested, testLogger, useBroker } from './support';

describe('outbox relay with the inbox, end to end', () => {
  const ctx = useBroker('relay');
  let running: TestService[] = [];
  const extraStops: (() => Promise<void>)[] = [];

  afterEach(async () => {
    for (const stop of extraStops.splice(0)) await stop();
    for (const s of running) await s.stop();
    running = [];
  });

  const recordEffect = transactional<'ride.requested'>(async (payload, uow, mctx) => {
    await uow.tx
      .repo(effects)
      .insert({ id: `${payload.rideId}:${mctx.envelope.id}`, version: 1, rideId: payload.rideId, messageId: mctx.envelope.id });
  });

  async function producerAndReactor(name: string): Promise<{ producer: TestService; reactor: TestService }> {
    const producer = await startTestService(ctx, { service: `${name}-producer`, subscriptions: [], withRelay: true });
    const reactor = await startTestService(ctx, {
      service: `${name}-reactor`,
      subscriptions: [on('ride.requested', 'recordEffect', recordEffect)],
    });
    running.push(producer, reactor);
    return { producer, reactor };
  }

  /** Commits each event to the producer's outbox in its own unit of work, as an HTTP handler would. */
  async function commitEvents(service: TestService, count: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const env = rideRequested();
      ids.push(env.payload.rideId);
      await service.store.run(async (tx) => tx.outbox.add(env));
    }
    return ids;
  }

  it('publishes committed outbox rows, marks them dispatched, and the consumer applies each once', async () => {
    const { producer, reactor } = await producerAndReactor('e2e');

    const rideIds = await commitEvents(producer, 50);

    await waitFor(async () => (await effectCount(reactor.store)) === 50, { description: '50 effects' });
    for (const rideId of rideIds) expect(await effectCount(reactor.store, { rideId })).to.equal(1);
    // Marks are coalesced over a short window after the confirms, so DISPATCHED trails the deliveries a little.
    await waitFor(async () => (await producer.store.outbox.stats()).pending === 0, { description: 'every row marked DISPATCHED' });
    expect(await counterValue(producer.metrics.published, { type: 'ride.requested' })).to.equal(50);
    expect(await counterValue(reactor.metrics.consumed, { outcome: 'processed' })).to.equal(50);
    await waitFor(async () => (await producer.metrics.outboxPending.get()).values[0]?.value === 0, {
      description: 'outbox_pending gauge at 0',
    });
  });

  it('absorbs a republished duplicate (same message id): acked, counted as duplicate, no second effect', async () => {
    const { producer, reactor } = await producerAndReactor('dup');
    const env = rideRequested();
    await producer.store.run(async (tx) => tx.outbox.add(env));
    await waitFor(async () => (await effectCount(reactor.store, { rideId: env.payload.rideId })) === 1, {
      description: 'the first delivery',
    });

    const again = toAmqpMessage(recordOf(env), ctx.prefix);
    ctx.channel.publish(again.exchange, again.routingKey, again.content, again.options);

    await waitFor(async () => (await counterValue(reactor.metrics.consumed, { outcome: 'duplicate' })) === 1, {
      description: 'the duplicate to be acked',
    });
    expect(await effectCount(reactor.store, { rideId: env.payload.rideId })).to.equal(1);
  });

  it('after a crash between publish and mark, the lease expires, the rows go out again and the inbox absorbs the duplicates', async () => {
    const producer = await startTestService(ctx, { service: 'crash-producer', subscriptions: [] });
    const reactor = await startTestService(ctx, {
      service: 'crash-reactor',
      subscriptions: [on('ride.requested', 'recordEffect', recordEffect)],
    });
    running.push(producer, reactor);
    // The first bulk mark is lost, as if the relay's process died right after the broker confirmed the batch.
    let marksLost = 0;
    const real = producer.store.outbox;
    const flakyOutbox: OutboxStore = {
      claim: (relayId, batchSize, leaseMs) => real.claim(relayId, batchSize, leaseMs),
      markDispatched: async (relayId, ids) => {
        if (marksLost === 0) {
          marksLost += 1;
          throw new Error('process crashed before marking');
        }
        return real.markDispatched(relayId, ids);
      },
      release: (relayId, ids, retryAfterMs) => real.release(relayId, ids, retryAfterMs),
      stats: () => real.stats(),
      onNewMessages: (listener) => real.onNewMessages(listener),
      attachFastPath: (fastPath) => real.attachFastPath(fastPath),
    };
    const relay = new OutboxRelay({
      connection: producer.connection,
      outbox: flakyOutbox,
      prefix: ctx.prefix,
      logger: testLogger(),
      leaseMs: 300,
      pollIntervalMs: 100,
    });
    relay.start();
    extraStops.push(() => relay.stop());

    const rideIds = await commitEvents(producer, 5);

    await waitFor(async () => (await real.stats()).pending === 0, {
      timeoutMs: 10_000,
      description: 'the outbox to drain after the lease expired',
    });
    await waitFor(async () => (await counterValue(reactor.metrics.consumed, { outcome: 'duplicate' })) >= 1, {
      description: 'a duplicate',
    });
    expect(marksLost).to.equal(1);
    for (const rideId of rideIds) expect(await effectCount(reactor.store, { rideId })).to.equal(1);
  });

  it('wakes at once after a commit rather than on the poll timer', async () => {
    const producer = await startTestService(ctx, { service: 'bell-producer', subscriptions: [] });
    const reactor = await startTestService(ctx, {
      service: 'bell-reactor',
      subscriptions: [on('ride.requested', 'recordEffect', recordEffect)],
    });
    running.push(producer, reactor);
    const relay = new OutboxRelay({
      connection: producer.connection,
      outbox: producer.store.outbox,
      prefix: ctx.prefix,
      logger: testLogger(),
      pollIntervalMs: 60_000,
    });
    relay.start();
    extraStops.push(() => relay.stop());
    // Let the relay's first (empty) claim happen, so it is asleep on a one-minute poll.
    await waitFor(() => producer.connection.isConnected());
    const env = createEnvelope({
      type: 'ride.requested',
      source: 'ride-service',
      correlationId: 'r-bell',
      payload: rideRequested({ rideId: 'r-bell' }).payload,
    });

    await producer.store.run(async (tx) => tx.outbox.add(env));

    await waitFor(async () => (await effectCount(reactor.store, { rideId: 'r-bell' })) === 1, {
      timeoutMs: 5_000,
      description: 'delivery well before the poll timer',
    });
  });
});
