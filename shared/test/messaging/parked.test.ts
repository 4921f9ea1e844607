// Parked messages against a real broker: listed with their reason, replayed to their exchange (confirmed first), purged.
import { expect } from 'chai';
import { on, transactional } from '../../src/messaging/handler';
import { HEADER_REPLAYED_FROM, handleParked } from '../../src/messaging/parked';
import { toAmqpMessage } from '../../src/wire';
import { waitFor } from '../../src/waitFor';
import { counterValue, effectCount, effects, startTestService, type TestService } from './service';
import { messageCount, recordOf, rideRequested, useBroker } from './support';

describe('parked messages', () => {
  const ctx = useBroker('parked');
  let running: TestService[] = [];

  afterEach(async () => {
    for (const s of running) await s.stop();
    running = [];
  });

  /** A handler that fails until `healed`, so its messages end up parked and can be replayed once it works. */
  async function brokenService(service: string): Promise<{ svc: TestService; heal(): void; seen: Array<Record<string, unknown>> }> {
    let healed = false;
    const seen: Array<Record<string, unknown>> = [];
    const svc = await startTestService(ctx, {
      service,
      maxAttempts: 3,
      retryDelaysMs: [50],
      subscriptions: [
        on('ride.requested', 'recordEffect', async (mctx) => {
          if (!healed) throw new Error('the fare table is missing');
          seen.push({ ...(mctx.envelope as unknown as Record<string, unknown>) });
          await transactional<'ride.requested'>(async (payload, uow) => {
            await uow.tx.repo(effects).insert({ id: payload.rideId, version: 1, rideId: payload.rideId, messageId: mctx.envelope.id });
          })(mctx);
        }),
      ],
    });
    running.push(svc);
    return { svc, heal: () => (healed = true), seen };
  }

  function publish(env: ReturnType<typeof rideRequested>): void {
    const msg = toAmqpMessage(recordOf(env), ctx.prefix);
    ctx.channel.publish(msg.exchange, msg.routingKey, msg.content, msg.options);
  }

  it('lists what is parked by ride and reason, changes nothing on a dry run, and replays only the matches', async () => {
    const { svc, heal } = await brokenService('parked-replay');
    const [a, b] = [rideRequested(), rideRequested()];
    publish(a);
    publish(b);
    await waitFor(async () => (await messageCount(ctx.channel, `${ctx.prefix}parked-replay.dlq`)) === 2, {
      timeoutMs: 10_000,
      description: 'both messages parked',
    });

    const listed = await handleParked(ctx.conn, {
      prefix: ctx.prefix,
      service: 'parked-replay',
      action: 'list',
      filter: { rideId: a.payload.rideId },
      dryRun: false,
    });
    expect(listed.matched.map((m) => [m.messageId, m.type, m.rideId, m.attempts])).to.deep.equal([
      [a.id, 'ride.requested', a.payload.rideId, 3],
    ]);
    expect(listed.matched[0]?.reason).to.contain('the fare table is missing');
    expect(listed.matched[0]?.parkedAt).to.be.instanceOf(Date);
    expect(listed.untouched).to.equal(1);

    heal();
    const dry = await handleParked(ctx.conn, {
      prefix: ctx.prefix,
      service: 'parked-replay',
      action: 'replay',
      filter: { reason: 'FARE TABLE', rideId: a.payload.rideId },
      dryRun: true,
    });
    expect(dry.matched).to.have.length(1);
    expect(dry.done).to.deep.equal([]);
    // A quorum queue counts a requeued message again a moment after the nack.
    await waitFor(async () => (await messageCount(ctx.channel, `${ctx.prefix}parked-replay.dlq`)) === 2, {
      description: 'a dry run changes nothing: both still parked',
    });

    const replayed = await handleParked(ctx.conn, {
      prefix: ctx.prefix,
      service: 'parked-replay',
      action: 'replay',
      filter: { rideId: a.payload.rideId },
      dryRun: false,
    });
    expect(replayed.done.map((m) => m.messageId)).to.deep.equal([a.id]);
    await waitFor(async () => (await effectCount(svc.store, { rideId: a.payload.rideId })) === 1, {
      description: 'the replayed message handled',
    });
    expect(await effectCount(svc.store, { rideId: b.payload.rideId }), 'the other one stays parked').to.equal(0);
    await waitFor(async () => (await messageCount(ctx.channel, `${ctx.prefix}parked-replay.dlq`)) === 1, {
      description: 'one left parked',
    });
    expect(await counterValue(svc.metrics.consumed, { outcome: 'processed' })).to.equal(1);
  });

  it('marks a replayed copy in its headers and gives it a fresh set of attempts', async () => {
    const { heal } = await brokenService('parked-marks');
    const env = rideRequested();
    publish(env);
    await waitFor(async () => (await messageCount(ctx.channel, `${ctx.prefix}parked-marks.dlq`)) === 1, {
      timeoutMs: 10_000,
      description: 'the message parked',
    });
    heal();
    // Watch the exchange for the copy (a queue of the test's own, bound before the replay).
    const { queue } = await ctx.channel.assertQueue('', { exclusive: true });
    await ctx.channel.bindQueue(queue, `${ctx.prefix}ride.events`, 'ride.requested');
    await handleParked(ctx.conn, {
      prefix: ctx.prefix,
      service: 'parked-marks',
      action: 'replay',
      filter: { messageId: env.id },
      dryRun: false,
    });
    const copy = await waitFor(async () => (await ctx.channel.get(queue, { noAck: true })) || null, { description: 'the replayed copy' });
    expect(copy.properties.messageId).to.equal(env.id);
    expect(copy.properties.headers?.[HEADER_REPLAYED_FROM]).to.equal(`${ctx.prefix}parked-marks.dlq`);
    expect(copy.properties.headers).to.not.have.property('x-attempts');
    expect(copy.properties.headers).to.not.have.property('x-parking-reason');
  });

  it('purges only the matches and leaves the others parked', async () => {
    await brokenService('parked-purge');
    const [a, b] = [rideRequested(), rideRequested()];
    publish(a);
    publish(b);
    await waitFor(async () => (await messageCount(ctx.channel, `${ctx.prefix}parked-purge.dlq`)) === 2, {
      timeoutMs: 10_000,
      description: 'both messages parked',
    });
    const purged = await handleParked(ctx.conn, {
      prefix: ctx.prefix,
      service: 'parked-purge',
      action: 'purge',
      filter: { messageId: b.id },
      dryRun: false,
    });
    expect(purged.done.map((m) => m.messageId)).to.deep.equal([b.id]);
    await waitFor(async () => (await messageCount(ctx.channel, `${ctx.prefix}parked-purge.dlq`)) === 1, { description: 'one left parked' });
    const left = await handleParked(ctx.conn, { prefix: ctx.prefix, service: 'parked-purge', action: 'list', filter: {}, dryRun: false });
    expect(left.matched.map((m) => m.messageId)).to.deep.equal([a.id]);
  });

  it('finds nothing for a service that never declared its parking queue', async () => {
    const none = await handleParked(ctx.conn, { prefix: ctx.prefix, service: 'never-ran', action: 'list', filter: {}, dryRun: false });
    expect(none.matched).to.deep.equal([]);
  });
});
