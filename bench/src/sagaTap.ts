// The end of a measured saga: a tap queue bound to `${prefix}ride.events` that reports each ride's outcome the moment it arrives.
import { performance } from 'node:perf_hooks';
import amqp, { type ChannelModel, type ConsumeMessage } from 'amqplib';

export type RideOutcome = 'ride.confirmed' | 'ride.rejected' | 'ride.cancelled';

export interface SagaTap {
  queue: string;
  /** Called with the ride id, its outcome and the performance.now() of arrival. */
  onOutcome(listener: (rideId: string, outcome: RideOutcome, at: number) => void): void;
  /** performance.now() of the latest message of any saga on any of the four exchanges (0 before the first). */
  lastMessageAt(): number;
  close(): Promise<void>;
}

const outcomes: readonly RideOutcome[] = ['ride.confirmed', 'ride.rejected', 'ride.cancelled'];

export async function openSagaTap(amqpUrl: string, brokerPrefix: string): Promise<SagaTap> {
  const connection: ChannelModel = await amqp.connect(amqpUrl, {
    noDelay: true,
    clientProperties: { connection_name: `${brokerPrefix}bench.tap` },
  });
  try {
    const channel = await connection.createChannel();
    const queue = `${brokerPrefix}bench.tap`;
    await channel.assertQueue(queue, { exclusive: true, autoDelete: true, durable: false });
    // Every event of the four exchanges, so the bench can tell when the sagas' exchanges are quiet.
    for (const exchange of ['ride', 'driver', 'payment', 'notification'])
      await channel.bindQueue(queue, `${brokerPrefix}${exchange}.events`, '#');
    let lastAt = 0;
    let listener: (rideId: string, outcome: RideOutcome, at: number) => void = () => undefined;
    await channel.consume(
      queue,
      (msg: ConsumeMessage | null) => {
        if (!msg) return;
        const at = performance.now();
        lastAt = at;
        if (msg.fields.exchange !== `${brokerPrefix}ride.events` || !outcomes.includes(msg.fields.routingKey as RideOutcome)) return;
        const outcome = msg.fields.routingKey as RideOutcome;
        // The ride id is the saga's correlation id (DESIGN §4): no need to parse the body on the clock.
        const rideId = typeof msg.properties.correlationId === 'string' ? msg.properties.correlationId : '';
        listener(rideId, outcome, at);
      },
      { noAck: true, exclusive: true },
    );
    return {
      queue,
      lastMessageAt: () => lastAt,
      onOutcome: (l) => {
        listener = l;
      },
      close: async () => {
        await connection.close();
      },
    };
  } catch (err) {
    await connection.close();
    throw err;
  }
}
