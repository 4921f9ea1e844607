// Publishes outbox records on a confirm channel: the whole batch in flight at once, back-pressure honoured, confirms awaited per batch.
import type { ConfirmChannel, Options } from 'amqplib';
import { errorMessage } from '../logger';
import type { OutboxRecord } from '../store/port';
import { contextFrom, startSpan } from '../tracing';
import { toAmqpMessage } from '../wire';
import { EXCHANGE_TYPE, prefixedExchange } from './topology';

export interface BatchResult {
  confirmed: string[];
  failed: string[];
  /** Why messages failed, when known (a closed channel, a nack). */
  error?: string;
}

/** Why a publish did not go out: the channel closed under it, or the broker nacked. */
export class PublishError extends Error {}

/**
 * A publisher bound to one confirm channel. It never waits for one confirm before sending the next message: a batch
 * goes out as fast as the socket takes it (pausing on 'drain'), then all its confirms are awaited together.
 */
export class ConfirmPublisher {
  private readonly declared = new Set<string>();
  private closed = false;

  constructor(
    readonly channel: ConfirmChannel,
    private readonly prefix: string,
    /** The service whose publishes these are, for its spans. */
    private readonly tracerName = 'ridehail',
  ) {
    channel.once('close', () => {
      this.closed = true;
    });
  }

  isOpen(): boolean {
    return !this.closed;
  }

  /**
   * Publishes every record; resolves when each one is confirmed or failed (never rejects). A failed confirm does not
   * prove the message was lost: a republished one may be a duplicate, which the consumers' inbox absorbs.
   */
  async publishBatch(records: readonly OutboxRecord[]): Promise<BatchResult> {
    const confirmed: string[] = [];
    const failed: string[] = [];
    let error: string | undefined;
    if (records.length === 0) return { confirmed, failed };
    try {
      await this.ensureExchanges(records);
    } catch (err) {
      // The exchange could not be declared (channel gone): nothing of this batch was sent.
      return { confirmed, failed: records.map((r) => r.id), error: `declaring exchanges: ${errorMessage(err)}` };
    }
    const pending: Promise<void>[] = [];
    let i = 0;
    for (; i < records.length; i++) {
      const record = records[i] as OutboxRecord;
      // The publish is a span of the trace the row was written in; the consumer continues from this span.
      const span = startSpan(this.tracerName, `publish ${record.type}`, {
        kind: 'producer',
        parent: contextFrom(record.headers),
        attributes: { 'messaging.system': 'rabbitmq', 'messaging.message.id': record.id, 'messaging.destination.name': record.exchange },
      });
      const msg = toAmqpMessage(record, this.prefix, span.traceContext());
      let writable: boolean;
      let settle!: (ok: boolean) => void;
      const settled = new Promise<boolean>((resolve) => {
        settle = resolve;
      });
      try {
        writable = this.channel.publish(msg.exchange, msg.routingKey, msg.content, msg.options, (err: unknown) => {
          if (err) error ??= errorMessage(err);
          span.end(err ? errorMessage(err) : undefined);
          settle(!err);
        });
      } catch (err) {
        // publish() throws synchronously on a closed channel: this record and the rest were never sent.
        error ??= errorMessage(err);
        span.end(errorMessage(err));
        break;
      }
      pending.push(settled.then((ok) => void (ok ? confirmed : failed).push(record.id)));
      if (!writable && i < records.length - 1) {
        if (!(await this.drained())) {
          error ??= 'channel closed while waiting for drain';
          i += 1;
          break;
        }
      }
    }
    for (; i < records.length; i++) failed.push((records[i] as OutboxRecord).id);
    await Promise.all(pending);
    return error === undefined ? { confirmed, failed } : { confirmed, failed, error };
  }

  /** Publishes one message and waits for its confirm; rejects with PublishError on a nack or a closed channel. */
  async publishOne(exchange: string, routingKey: string, content: Buffer, options: Options.Publish): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      try {
        this.channel.publish(exchange, routingKey, content, options, (err: unknown) =>
          err ? reject(new PublishError(errorMessage(err))) : resolve(),
        );
      } catch (err) {
        reject(new PublishError(errorMessage(err)));
      }
    });
  }

  /** True when the socket drained, false when the channel closed while waiting. */
  private drained(): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const onDrain = () => {
        this.channel.off('close', onClose);
        resolve(true);
      };
      const onClose = () => {
        this.channel.off('drain', onDrain);
        resolve(false);
      };
      this.channel.once('drain', onDrain);
      this.channel.once('close', onClose);
    });
  }

  /** Publishing to a missing exchange would close the channel (404); declare each one once per channel. */
  private async ensureExchanges(records: readonly OutboxRecord[]): Promise<void> {
    for (const r of records) {
      const exchange = prefixedExchange(this.prefix, r.exchange);
      if (this.declared.has(exchange)) continue;
      await this.channel.assertExchange(exchange, EXCHANGE_TYPE, { durable: true });
      this.declared.add(exchange);
    }
  }
}
