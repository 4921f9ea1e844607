// The broker closes a service's connection mid-stream: consuming and relaying resume on their own and no message is lost.
import { expect } from 'chai';
import { on, transactional } from '../../src/messaging/handler';
import { toAmqpMessage } from '../../src/wire';
import { waitFor } from '../../src/waitFor';
import { closeConnectionByName } from '../../../test/support/rabbit';
import { effectCount, effects, startTestService, type TestService } from './service';
import { recordOf, rideRequested, useBroker } from './support';

describe('recovery after the broker closes the connection', () => {
  const ctx = useBroker('reconn');
  let svc: TestService | undefined;

  after(async () => {
    await svc?.stop();
  });

  it('reconnects, redeclares, resumes consuming and relaying, and every message is applied exactly once', async function () {
    this.timeout(60_000);
    const recordEffect = transactional<'ride.requested'>(async (payload, uow, mctx) => {
      await uow.tx
        .repo(effects)
        .insert({ id: `${payload.rideId}:${mctx.envelope.id}`, version: 1, rideId: payload.rideId, messageId: mctx.envelope.id });
    });
    // One process that relays its own outbox and consumes what it published: both halves share the one connection.
    svc = await startTestService(ctx, {
      service: 'loop-service',
      subscriptions: [on('ride.requested', 'recordEffect', recordEffect)],
      withRelay: true,
    });
    const service = svc;
    const events: string[] = [];
    service.connection.on('connected', () => events.push('connected'));
    service.connection.on('disconnected', () => events.push('disconnected'));
    const rideIds: string[] = [];
    const commit = async (count: number) => {
      for (let i = 0; i < count; i++) {
        const env = rideRequested();
        rideIds.push(env.payload.rideId);
        await service.store.run(async (tx) => tx.outbox.add(env));
      }
    };

    await commit(100);
    await waitFor(async () => (await effectCount(service.store)) === 100, { description: 'the first 100 effects' });

    // Messages in every state when the connection dies: some committed but not relayed, some in the queue.
    await commit(100);
    const closed = await waitFor(() => closeConnectionByName(ctx.broker, `${ctx.prefix}loop-service`), {
      timeoutMs: 15_000,
      intervalMs: 250,
      description: 'the management API to list and close the connection',
    });
    expect(closed).to.equal(true);
    await commit(100);
    // Published by another service while this one is away: it waits in the durable queue.
    for (let i = 0; i < 20; i++) {
      const env = rideRequested({ source: 'driver-service' });
      rideIds.push(env.payload.rideId);
      const msg = toAmqpMessage(recordOf(env), ctx.prefix);
      ctx.channel.publish(msg.exchange, msg.routingKey, msg.content, msg.options);
    }

    await waitFor(() => events.includes('disconnected') && service.connection.isConnected(), {
      timeoutMs: 20_000,
      description: 'a reconnect',
    });
    await waitFor(async () => (await effectCount(service.store)) >= 320 && (await service.store.outbox.stats()).pending === 0, {
      timeoutMs: 30_000,
      description: 'all 320 effects and an empty outbox',
    });
    expect(await effectCount(service.store)).to.equal(320);
    for (const rideId of rideIds) expect(await effectCount(service.store, { rideId }), rideId).to.equal(1);
    expect(events[0]).to.equal('disconnected');
    expect(events).to.include('connected');
  });
});
