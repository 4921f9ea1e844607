// The confirm-channel publisher: AMQP properties mirror the envelope, whole batches in flight, failures reported not thrown.
import { expect } from 'chai';
import { parseEnvelope } from '../../src/envelope';
import { ConfirmPublisher } from '../../src/messaging/publisher';
import { toAmqpMessage } from '../../src/wire';
import { messageCount, recordOf, rideRequested, takeMessages, useBroker } from './support';

describe('confirm publisher', () => {
  const ctx = useBroker('pub');
  let queue: string;

  before(async () => {
    // A queue bound to the prefixed ride.events exchange, to read back what was published.
    await ctx.channel.assertExchange(`${ctx.prefix}ride.events`, 'topic', { durable: true });
    queue = `${ctx.prefix}publisher-probe`;
    await ctx.channel.assertQueue(queue, { durable: true });
    await ctx.channel.bindQueue(queue, `${ctx.prefix}ride.events`, '#');
  });

  beforeEach(async () => {
    await ctx.channel.purgeQueue(queue);
  });

  it('publishes to the prefixed exchange with every AMQP property and header mirroring the envelope', async () => {
    const caused = rideRequested({ causationId: 'msg-cause-1' });
    const fromHttp = rideRequested();
    const confirmChannel = await ctx.conn.createConfirmChannel();
    const publisher = new ConfirmPublisher(confirmChannel, ctx.prefix);

    const result = await publisher.publishBatch([recordOf(caused), recordOf(fromHttp)]);
    await confirmChannel.close();

    expect(result.failed).to.deep.equal([]);
    expect(result.confirmed.sort()).to.deep.equal([caused.id, fromHttp.id].sort());
    const got = await takeMessages(ctx.channel, queue, 2);
    const first = got.find((m) => m.properties.messageId === caused.id);
    expect(first, 'the caused message').to.not.equal(undefined);
    const props = first!.properties;
    expect(first!.fields.exchange).to.equal(`${ctx.prefix}ride.events`);
    expect(first!.fields.routingKey).to.equal('ride.requested');
    expect(props).to.include({
      messageId: caused.id,
      type: 'ride.requested',
      correlationId: caused.correlationId,
      appId: 'ride-service',
      contentType: 'application/json',
      deliveryMode: 2,
      timestamp: Math.floor(Date.parse(caused.occurredAt) / 1000),
    });
    expect(props.headers).to.include({ 'x-causation-id': 'msg-cause-1', 'x-event-version': 1 });
    // The body is the envelope itself, valid for the consumers' zod check.
    const parsed = parseEnvelope(first!.content);
    expect(parsed.ok && parsed.envelope).to.deep.equal(caused);

    const second = got.find((m) => m.properties.messageId === fromHttp.id)!;
    expect(second.properties.headers).to.not.have.property('x-causation-id');
    expect(JSON.parse(second.content.toString())).to.not.have.property('causationId');
  });

  it('maps a record to its message without a broker (exchange prefixed, timestamp in seconds)', () => {
    const env = rideRequested();
    const msg = toAmqpMessage(recordOf(env), 'p9.');
    expect(msg.exchange).to.equal('p9.ride.events');
    expect(msg.routingKey).to.equal('ride.requested');
    expect(msg.options.timestamp).to.be.below(Date.now() / 1000 + 1);
    expect(JSON.parse(msg.content.toString())).to.deep.equal(env);
  });

  it('gets a batch far larger than the socket buffer through, pausing on drain, with every message confirmed', async () => {
    const records = Array.from({ length: 3000 }, () => recordOf(rideRequested()));
    const confirmChannel = await ctx.conn.createConfirmChannel();
    // Count the times the socket said "full": the publisher must have waited for 'drain' and carried on.
    let full = 0;
    const publish = confirmChannel.publish.bind(confirmChannel);
    confirmChannel.publish = (...args: Parameters<typeof publish>) => {
      const writable = publish(...args);
      if (!writable) full += 1;
      return writable;
    };
    const publisher = new ConfirmPublisher(confirmChannel, ctx.prefix);

    const result = await publisher.publishBatch(records);
    await confirmChannel.close();

    expect(full, 'back-pressure was never hit: make the batch larger').to.be.at.least(1);
    expect(result.failed).to.have.length(0);
    expect(result.confirmed).to.have.length(3000);
    expect(await messageCount(ctx.channel, queue)).to.equal(3000);
  });

  it('reports the records of a closed channel as failed instead of throwing', async () => {
    const confirmChannel = await ctx.conn.createConfirmChannel();
    const publisher = new ConfirmPublisher(confirmChannel, ctx.prefix);
    await publisher.publishBatch([recordOf(rideRequested())]);
    await confirmChannel.close();
    const records = [recordOf(rideRequested()), recordOf(rideRequested())];

    const result = await publisher.publishBatch(records);

    expect(result.confirmed).to.deep.equal([]);
    expect(result.failed).to.deep.equal(records.map((r) => r.id));
    expect(result.error).to.be.a('string');
  });
});
