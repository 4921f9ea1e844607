// The broker topology of DESIGN §4, declared under a BROKER_PREFIX and read back from the broker itself.
import { expect } from 'chai';
import type { GetMessage } from 'amqplib';
import { waitFor } from '../../src/waitFor';
import { declareServiceTopology, names, TopologyConflictError } from '../../src/messaging/topology';
import { management } from '../../../test/support/rabbit';
import { useBroker } from './support';

interface QueueInfo {
  durable: boolean;
  type?: string;
  arguments: Record<string, unknown>;
}
interface ExchangeInfo {
  type: string;
  durable: boolean;
}
interface BindingInfo {
  source: string;
  routing_key: string;
}

describe('broker topology of a consuming service', () => {
  const ctx = useBroker('topo');
  const vhost = encodeURIComponent('/');

  async function queueInfo(name: string): Promise<QueueInfo> {
    const res = await management(ctx.broker, 'GET', `/queues/${vhost}/${encodeURIComponent(name)}`);
    expect(res.status, `queue ${name}`).to.equal(200);
    return res.body as QueueInfo;
  }

  async function exchangeInfo(name: string): Promise<ExchangeInfo> {
    const res = await management(ctx.broker, 'GET', `/exchanges/${vhost}/${encodeURIComponent(name)}`);
    expect(res.status, `exchange ${name}`).to.equal(200);
    return res.body as ExchangeInfo;
  }

  it('names every exchange and queue with the prefix prepended as it is', () => {
    const n = names('t1.', 'driver-service');
    expect(n.queue).to.equal('t1.driver-service');
    expect(n.dlq).to.equal('t1.driver-service.dlq');
    expect(n.retryQueue(2)).to.equal('t1.driver-service.retry.2');
    expect(n.exchange('ride.events')).to.equal('t1.ride.events');
  });

  it('declares durable topic exchanges, the bound queue, TTL retry queues and the parking queue, as quorum queues by default', async () => {
    const declared = await declareServiceTopology(ctx.channel, {
      prefix: ctx.prefix,
      service: 'payment-service',
      exchange: 'payment.events',
      events: ['ride.requested', 'driver.assigned', 'ride.cancelled'],
      retryDelaysMs: [1000, 5000, 25000],
    });
    const p = ctx.prefix;

    // Its own exchange and the exchanges of the events it consumes, all durable topic exchanges.
    expect(declared.exchanges.sort()).to.deep.equal([`${p}driver.events`, `${p}payment.events`, `${p}ride.events`]);
    for (const name of declared.exchanges) {
      await ctx.channel.checkExchange(name);
      expect(await exchangeInfo(name)).to.include({ type: 'topic', durable: true });
    }

    const main = await queueInfo(`${p}payment-service`);
    expect(main.durable).to.equal(true);
    expect(main.arguments).to.deep.equal({ 'x-queue-type': 'quorum' });
    const bindings = (await management(ctx.broker, 'GET', `/queues/${vhost}/${encodeURIComponent(`${p}payment-service`)}/bindings`))
      .body as BindingInfo[];
    const routed = bindings
      .filter((b) => b.source !== '')
      .map((b) => `${b.source} ${b.routing_key}`)
      .sort();
    expect(routed).to.deep.equal([`${p}driver.events driver.assigned`, `${p}ride.events ride.cancelled`, `${p}ride.events ride.requested`]);

    // One retry queue per delay: its TTL dead-letters the message back to the main queue through the default exchange,
    // at least once (the broker keeps the message until the main queue confirmed it).
    for (const [i, delay] of [1000, 5000, 25000].entries()) {
      const retry = await queueInfo(`${p}payment-service.retry.${i + 1}`);
      expect(retry.durable).to.equal(true);
      expect(retry.arguments).to.deep.equal({
        'x-queue-type': 'quorum',
        'x-message-ttl': delay,
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': `${p}payment-service`,
        'x-dead-letter-strategy': 'at-least-once',
        'x-overflow': 'reject-publish',
      });
    }
    const dlq = await queueInfo(`${p}payment-service.dlq`);
    expect(dlq.durable).to.equal(true);
    expect(dlq.arguments).to.deep.equal({ 'x-queue-type': 'quorum' });
  });

  it('declares classic queues, as before quorum queues, with QUEUE_TYPE=classic', async () => {
    await declareServiceTopology(ctx.channel, {
      prefix: ctx.prefix,
      service: 'ride-service',
      exchange: 'ride.events',
      events: ['driver.assigned'],
      retryDelaysMs: [300],
      queueType: 'classic',
    });
    const p = ctx.prefix;
    for (const name of [`${p}ride-service`, `${p}ride-service.dlq`]) {
      const info = await queueInfo(name);
      expect(info.type, name).to.equal('classic');
      expect(info.arguments, name).to.deep.equal({});
    }
    const retry = await queueInfo(`${p}ride-service.retry.1`);
    expect(retry.type).to.equal('classic');
    expect(retry.arguments).to.deep.equal({
      'x-message-ttl': 300,
      'x-dead-letter-exchange': '',
      'x-dead-letter-routing-key': `${p}ride-service`,
    });
  });

  it('names the queue and the remedy when a queue left by an older setup has other arguments (a classic queue under quorum)', async () => {
    const options = { prefix: ctx.prefix, service: 'stale-service', exchange: 'ride.events', events: ['driver.assigned' as const] };
    await declareServiceTopology(ctx.channel, { ...options, queueType: 'classic' });
    // The refused redeclaration closes its channel (AMQP 406), so it gets one of its own.
    const channel = await ctx.conn.createChannel();
    channel.on('error', () => undefined);
    const refused = await declareServiceTopology(channel, { ...options, queueType: 'quorum' }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).to.be.instanceOf(TopologyConflictError);
    const conflict = refused as TopologyConflictError;
    expect(conflict.queue).to.equal(`${ctx.prefix}stale-service`);
    expect(conflict.message).to.include(`rabbitmqctl delete_queue '${ctx.prefix}stale-service'`).and.include('PRECONDITION_FAILED');
  });

  it('moves an expired retry message back to the service queue with its body and headers (quorum TTL + dead-lettering)', async () => {
    const declared = await declareServiceTopology(ctx.channel, {
      prefix: ctx.prefix,
      service: 'driver-service',
      exchange: 'driver.events',
      events: ['ride.requested'],
      retryDelaysMs: [200],
    });
    const confirm = await ctx.conn.createConfirmChannel();
    try {
      await new Promise<void>((resolve, reject) =>
        confirm.publish(
          '',
          declared.retryQueue(1),
          Buffer.from('{"hello":"again"}'),
          { persistent: true, headers: { 'x-attempts': 2 } },
          (err) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve()),
        ),
      );
    } finally {
      await confirm.close();
    }
    let got: GetMessage | false = false;
    await waitFor(
      async () => {
        got = await ctx.channel.get(declared.queue, { noAck: true });
        return got !== false;
      },
      { timeoutMs: 5_000, intervalMs: 50, description: 'the retried message back in the service queue' },
    );
    const msg = got as GetMessage | false;
    expect(msg && msg.content.toString()).to.equal('{"hello":"again"}');
    expect(msg && msg.properties.headers?.['x-attempts']).to.equal(2);
  });

  it('is idempotent: a service that restarts declares the same topology again', async () => {
    const options = {
      prefix: ctx.prefix,
      service: 'notification-service',
      exchange: 'notification.events',
      events: ['ride.confirmed'] as const,
      retryDelaysMs: [200, 400],
    };
    await declareServiceTopology(ctx.channel, { ...options, events: [...options.events] });
    const again = await declareServiceTopology(ctx.channel, { ...options, events: [...options.events] });
    expect(again.retryQueues).to.deep.equal([`${ctx.prefix}notification-service.retry.1`, `${ctx.prefix}notification-service.retry.2`]);
    await ctx.channel.checkQueue(`${ctx.prefix}notification-service.dlq`);
  });
});
