// A tap on the broker: an exclusive, auto-delete queue bound with '#' to the four exchanges, recording every saga message.
import { randomBytes } from 'node:crypto';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { connectToAnyNode, envelopeSchema, type RawEnvelope } from '@ridehail/shared';
import { services } from './services';

export interface TappedMessage {
  envelope: RawEnvelope;
  exchange: string;
  routingKey: string;
  /** AMQP properties as the management UI shows them. */
  appId?: string;
  messageId?: string;
  /** The W3C trace id of the saga (from the `traceparent` header), when the message carries one. */
  traceId?: string;
  /** When the tap received it (ms since epoch). */
  receivedAt: number;
}

export interface Tap {
  queue: string;
  messages: TappedMessage[];
  /** Messages of one saga (correlationId = ride id), in arrival order. */
  forRide(rideId: string): TappedMessage[];
  /** Called for every message as it arrives. */
  onMessage(listener: (m: TappedMessage) => void): void;
  /** Bodies that were not envelopes (should be none). */
  rejected: { exchange: string; routingKey: string; reason: string }[];
  close(): Promise<void>;
}

export interface TapOptions {
  amqpUrl: string;
  brokerPrefix: string;
  /** A name for the tap queue (it is prefixed with BROKER_PREFIX and a random suffix). */
  name?: string;
}

export async function openTap(options: TapOptions): Promise<Tap> {
  const connection: ChannelModel = await connectToAnyNode(options.amqpUrl, {
    clientProperties: { connection_name: `${options.brokerPrefix}${options.name ?? 'tap'}` },
  });
  let channel: Channel | undefined;
  try {
    // checkExchange closes the channel when one is missing, so each check gets its own short-lived channel.
    for (const s of services) {
      const check = await connection.createChannel();
      try {
        await check.checkExchange(`${options.brokerPrefix}${s.exchange}`);
        await check.close();
      } catch (err) {
        throw new Error(
          `exchange ${options.brokerPrefix}${s.exchange} does not exist (is ${s.name} running with BROKER_PREFIX='${options.brokerPrefix}'?): ${(err as Error).message}`,
          { cause: err },
        );
      }
    }
    channel = await connection.createChannel();
    const queue = `${options.brokerPrefix}${options.name ?? 'tap'}.${randomBytes(3).toString('hex')}`;
    await channel.assertQueue(queue, { exclusive: true, autoDelete: true, durable: false });
    for (const s of services) await channel.bindQueue(queue, `${options.brokerPrefix}${s.exchange}`, '#');

    const messages: TappedMessage[] = [];
    const rejected: Tap['rejected'] = [];
    const listeners: ((m: TappedMessage) => void)[] = [];
    const onDelivery = (msg: ConsumeMessage | null) => {
      if (!msg) return;
      const { exchange, routingKey } = msg.fields;
      let json: unknown;
      try {
        json = JSON.parse(msg.content.toString('utf8'));
      } catch (err) {
        rejected.push({ exchange, routingKey, reason: `not JSON: ${(err as Error).message}` });
        return;
      }
      const parsed = envelopeSchema.safeParse(json);
      if (!parsed.success) {
        rejected.push({ exchange, routingKey, reason: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
        return;
      }
      const props = msg.properties as { appId?: unknown; messageId?: unknown; headers?: Record<string, unknown> };
      const tapped: TappedMessage = {
        envelope: parsed.data,
        exchange,
        routingKey,
        appId: typeof props.appId === 'string' ? props.appId : undefined,
        messageId: typeof props.messageId === 'string' ? props.messageId : undefined,
        traceId: traceIdOf(props.headers?.['traceparent']),
        receivedAt: Date.now(),
      };
      messages.push(tapped);
      for (const l of listeners) l(tapped);
    };
    await channel.consume(queue, onDelivery, { noAck: true, exclusive: true });

    const open = channel;
    return {
      queue,
      messages,
      rejected,
      forRide: (rideId) => messages.filter((m) => m.envelope.correlationId === rideId),
      onMessage: (listener) => listeners.push(listener),
      close: async () => {
        await open.close();
        await connection.close();
      },
    };
  } catch (err) {
    await connection.close();
    throw err;
  }
}

function traceIdOf(traceparent: unknown): string | undefined {
  const text = Buffer.isBuffer(traceparent) ? traceparent.toString('utf8') : traceparent;
  return typeof text === 'string' ? /^00-([0-9a-f]{32})-/.exec(text)?.[1] : undefined;
}
