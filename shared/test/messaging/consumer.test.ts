// The consumer against a real broker: ack after commit, retries with growing delays, parking with reason and attempts.
import { expect } from 'chai';
import { createEnvelope } from '../../src/envelope';
import { on, transactional } from '../../src/messaging/handler';
import { toAmqpMessage } from '../../src/wire';
import { waitFor } from '../../src/waitFor';
import { counterValue, effectCount, effects, startTestService, type TestService } from './service';
import { messageCount, recordOf, rideRequested, takeMessages, useBroker } from './support';

describe('message consumer', () => {
  const ctx = useBroker('cons');
  let running: TestService[] = [];

  afterEach(async () => {
    for (const s of running) await s.stop();
    running = [];
  });

  async function start(options: Parameters<typeof startTestService>[1]): Promise<TestService> {
    const svc = await startTestService(ctx, options);
    running.push(svc);
    return svc;
  }

  /** Publishes an envelope as the relay would (same properties), from the test's own channel. */
  function publish(env: ReturnType<typeof rideRequested>): ReturnType<typeof toAmqpMessage> {
    const msg = toAmqpMessage(recordOf(env), ctx.prefix);
    ctx.channel.publish(msg.exchange, msg.routingKey, msg.content, msg.options);
    return msg;
  }

  const recordEffect = transactional<'ride.requested'>(async (payload, uow, mctx) => {
    await uow.tx
      .repo(effects)
      .insert({ id: `${payload.rideId}:${mctx.envelope.id}`, version: 1, rideId: payload.rideId, messageId: mctx.envelope.id });
  });

  it('acks a message only once its handler committed, and records the effect once', async () => {
    const svc = await start({ service: 'ack-service', subscriptions: [on('ride.requested', 'recordEffect', recordEffect)] });
    const env = rideRequested();

    publish(env);

    await waitFor(() => counterValue(svc.metrics.consumed, { outcome: 'processed' }).then((n) => n === 1), { description: 'processed' });
    expect(await effectCount(svc.store, { rideId: env.payload.rideId })).to.equal(1);
    expect(await messageCount(ctx.channel, svc.consumer.queue)).to.equal(0);
  });

  it('retries a handler that fails twice with the attempt count, then succeeds on the third attempt', async () => {
    const attempts: number[] = [];
    const svc = await start({
      service: 'flaky-service',
      retryDelaysMs: [200, 400],
      maxAttempts: 5,
      subscriptions: [
        on('ride.requested', 'flakyHandler', async (mctx) => {
          attempts.push(mctx.attempt);
          if (mctx.attempt < 3) throw new Error(`gateway timeout on attempt ${mctx.attempt}`);
          await recordEffect(mctx);
        }),
      ],
    });
    const env = rideRequested();
    const startedAt = Date.now();

    publish(env);

    await waitFor(async () => (await effectCount(svc.store, { rideId: env.payload.rideId })) > 0, {
      timeoutMs: 10_000,
      description: 'the effect of the third attempt',
    });
    const elapsed = Date.now() - startedAt;
    expect(attempts).to.deep.equal([1, 2, 3]);
    // Waited in the retry queues: 200 ms, then 400 ms.
    expect(elapsed).to.be.at.least(550);
    expect(await counterValue(svc.metrics.retried, { type: 'ride.requested' })).to.equal(2);
    expect(await counterValue(svc.metrics.consumed, { outcome: 'processed' })).to.equal(1);
    expect(await counterValue(svc.metrics.deadLettered)).to.equal(0);
    expect(await messageCount(ctx.channel, `${ctx.prefix}flaky-service.dlq`)).to.equal(0);
  });

  it('parks a message whose handler always fails after maxAttempts, with the last error, the attempts and its original properties', async () => {
    let calls = 0;
    let lastAttemptFlag = false;
    const svc = await start({
      service: 'broken-service',
      retryDelaysMs: [200, 400],
      maxAttempts: 3,
      subscriptions: [
        on('ride.requested', 'brokenHandler', async (mctx) => {
          calls += 1;
          lastAttemptFlag = mctx.isLastAttempt;
          throw new Error(`payment gateway down (call ${calls})`);
        }),
      ],
    });
    const env = rideRequested({ causationId: 'cause-42' });

    const sent = publish(env);

    const [parked] = await takeMessages(ctx.channel, `${ctx.prefix}broken-service.dlq`, 1, 10_000);
    expect(calls).to.equal(3);
    expect(lastAttemptFlag).to.equal(true);
    expect(parked!.content.equals(sent.content)).to.equal(true);
    const props = parked!.properties;
    expect(props).to.include({
      messageId: env.id,
      type: 'ride.requested',
      correlationId: env.correlationId,
      appId: 'ride-service',
      contentType: 'application/json',
      timestamp: sent.options.timestamp,
      deliveryMode: 2,
    });
    expect(props.headers).to.include({
      'x-parking-reason': 'payment gateway down (call 3)',
      'x-attempts': 3,
      // Carried over from the retry copies: the error of the attempt before.
      'x-last-error': 'payment gateway down (call 2)',
      'x-causation-id': 'cause-42',
      'x-event-version': 1,
    });
    expect(await counterValue(svc.metrics.deadLettered, { reason: 'exhausted' })).to.equal(1);
    expect(await counterValue(svc.metrics.retried)).to.equal(2);
  });

  it('parks an invalid message (not JSON, a bad payload, an unknown version) at once, without retries and without calling the handler', async () => {
    let calls = 0;
    const svc = await start({
      service: 'strict-service',
      // Delays long enough that a retry could not possibly have happened before the message is parked.
      retryDelaysMs: [3000, 3000],
      maxAttempts: 3,
      subscriptions: [
        on('ride.requested', 'neverCalled', async () => {
          calls += 1;
        }),
      ],
    });
    const exchange = `${ctx.prefix}ride.events`;
    const good = rideRequested();
    const badPayload = { ...good, id: 'bad-payload-1', payload: { rideId: good.payload.rideId } };
    // A producer newer than this build: a version no catalogue entry here reads, so no handler may guess at its shape.
    const futureVersion = { ...good, id: 'future-version-1', version: 7 };
    const startedAt = Date.now();

    ctx.channel.publish(exchange, 'ride.requested', Buffer.from('this is { not json'), { messageId: 'not-json-1', type: 'ride.requested' });
    ctx.channel.publish(exchange, 'ride.requested', Buffer.from(JSON.stringify(badPayload)), {
      messageId: 'bad-payload-1',
      type: 'ride.requested',
    });
    ctx.channel.publish(exchange, 'ride.requested', Buffer.from(JSON.stringify(futureVersion)), {
      messageId: 'future-version-1',
      type: 'ride.requested',
      headers: { 'x-event-version': 7 },
    });

    const parked = await takeMessages(ctx.channel, `${ctx.prefix}strict-service.dlq`, 3, 2_500);
    expect(Date.now() - startedAt).to.be.below(3000);
    const reasons = Object.fromEntries(
      parked.map((m) => [m.properties.messageId as string, m.properties.headers?.['x-parking-reason'] as string]),
    );
    expect(reasons['not-json-1']).to.match(/not JSON/);
    expect(reasons['bad-payload-1']).to.match(/invalid ride\.requested payload/);
    expect(reasons['future-version-1']).to.equal('unsupported version 7 of ride.requested (this build reads version 1)');
    for (const m of parked) expect(m.properties.headers?.['x-attempts']).to.equal(1);
    expect(calls).to.equal(0);
    expect(await counterValue(svc.metrics.retried)).to.equal(0);
    expect(await counterValue(svc.metrics.deadLettered, { reason: 'invalid' })).to.equal(3);
    for (const level of [1, 2]) expect(await messageCount(ctx.channel, `${ctx.prefix}strict-service.retry.${level}`)).to.equal(0);
  });

  it('parks a valid message of a type it has no handler for', async () => {
    const svc = await start({ service: 'narrow-service', subscriptions: [on('ride.requested', 'recordEffect', recordEffect)] });
    const stray = createEnvelope({
      type: 'ride.rated',
      source: 'ride-service',
      correlationId: 'ride-stray',
      payload: { rideId: 'ride-stray', riderId: 'rider-1', driverId: 'driver-1', stars: 4 },
    });

    ctx.channel.sendToQueue(svc.consumer.queue, Buffer.from(JSON.stringify(stray)), { messageId: stray.id });

    const [parked] = await takeMessages(ctx.channel, `${ctx.prefix}narrow-service.dlq`, 1);
    expect(parked!.properties.headers?.['x-parking-reason']).to.equal('no handler for ride.rated in narrow-service');
    expect(await counterValue(svc.metrics.deadLettered, { reason: 'no-handler' })).to.equal(1);
  });

  it('on stop, takes no new messages and waits for the in-flight one to commit and be acked', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered = 0;
    const svc = await start({
      service: 'slow-service',
      subscriptions: [
        on('ride.requested', 'slowHandler', async (mctx) => {
          entered += 1;
          await gate;
          await recordEffect(mctx);
        }),
      ],
    });
    const env = rideRequested();
    publish(env);
    await waitFor(() => entered === 1, { description: 'the handler to start' });

    let stopped = false;
    const stopping = svc.consumer.stop().then(() => {
      stopped = true;
    });
    // A quorum queue counts a cancelled consumer until its in-flight message is settled, so "takes no new messages" is
    // checked by offering one once the cancel had time to reach the broker: it must stay in the queue.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const next = rideRequested();
    publish(next);
    await waitFor(async () => (await messageCount(ctx.channel, svc.consumer.queue)) === 1, {
      description: 'the next message to wait in the queue',
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(entered, 'handlers entered after stop()').to.equal(1);
    expect(stopped, 'stop() returned while a message was in flight').to.equal(false);
    release();
    await stopping;

    expect(await effectCount(svc.store, { rideId: env.payload.rideId })).to.equal(1);
    expect(await effectCount(svc.store, { rideId: next.payload.rideId })).to.equal(0);
    // Acked before the channel closed: nothing went back to the queue; only the message offered after stop() is there.
    expect(await messageCount(ctx.channel, svc.consumer.queue)).to.equal(1);
  });

  it('on stop, gives up waiting after its drain time and the broker hands the unfinished message to another consumer', async () => {
    let release!: () => void;
    const stuck = new Promise<void>((resolve) => (release = resolve));
    const slow = await startTestService(ctx, {
      service: 'drain-service',
      subscriptions: [
        on('ride.requested', 'slowHandler', async () => {
          await stuck;
        }),
      ],
    });
    const env = rideRequested();
    publish(env);
    await waitFor(async () => (await messageCount(ctx.channel, slow.consumer.queue)) === 0, { description: 'the delivery taken' });

    const startedAt = Date.now();
    await slow.consumer.stop(300);
    expect(Date.now() - startedAt, 'bounded by the drain time').to.be.below(2_000);
    // The handler finishes after its channel closed: its ack cannot reach the broker any more.
    release();
    await slow.stop();

    const next = await start({ service: 'drain-service', subscriptions: [on('ride.requested', 'recordEffect', recordEffect)] });
    await waitFor(async () => (await effectCount(next.store, { rideId: env.payload.rideId })) === 1, {
      description: 'the unfinished message handled by the next consumer',
    });
  });
});
