// Fault injection for the faults and soak lanes: broker-side connection cuts, raw publishing, counters over every replica.
import { randomUUID } from 'node:crypto';
import type { ChannelModel, ConfirmChannel, GetMessage, Options } from 'amqplib';
import { connectToAnyNode, propertiesOf, type RawEnvelope } from '@ridehail/shared';
import { metricValue } from './system/api';
import { serviceKeys, type ServiceKey } from './system/services';
import { management, vhostOf, type RabbitTarget } from './rabbit';
import type { Replica, ReplicaSet } from './replicaSet';

type Broker = Pick<RabbitTarget, 'url' | 'managementUrl'>;

// ---- the broker side

export interface BrokerConnection {
  /** The management API's name of the connection (changes on every reconnect). */
  name: string;
  /** The client's connection_name property (`<prefix><service>` for the services). */
  connectionName: string;
}

/** Client connections whose connection_name is one of `connectionNames`. */
export async function connectionsNamed(broker: Broker, connectionNames: readonly string[]): Promise<BrokerConnection[]> {
  const res = await management(broker, 'GET', '/connections?columns=name,client_properties');
  if (res.status !== 200 || !Array.isArray(res.body)) throw new Error(`management GET /connections answered ${res.status}`);
  const found: BrokerConnection[] = [];
  for (const item of res.body as unknown[]) {
    if (typeof item !== 'object' || item === null) continue;
    const { name, client_properties: props } = item as { name?: unknown; client_properties?: { connection_name?: unknown } };
    const connectionName = props?.connection_name;
    if (typeof name === 'string' && typeof connectionName === 'string' && connectionNames.includes(connectionName))
      found.push({ name, connectionName });
  }
  return found;
}

/** Closes connections from the broker side, as an operator (or a broker restart) would. */
export async function cutConnections(broker: Broker, connections: readonly BrokerConnection[]): Promise<void> {
  for (const c of connections) {
    const res = await management(broker, 'DELETE', `/connections/${encodeURIComponent(c.name)}`);
    if (res.status >= 300 && res.status !== 404) throw new Error(`management DELETE /connections/${c.name} answered ${res.status}`);
  }
}

/** The routing keys a queue is bound with on `exchange` (from the management API). */
export async function bindingKeys(broker: Broker, queue: string, exchange: string): Promise<string[]> {
  const vhost = encodeURIComponent(vhostOf(broker.url));
  const res = await management(broker, 'GET', `/queues/${vhost}/${encodeURIComponent(queue)}/bindings`);
  if (res.status !== 200 || !Array.isArray(res.body)) throw new Error(`management GET bindings of ${queue} answered ${res.status}`);
  return (res.body as { source?: unknown; routing_key?: unknown }[])
    .filter((b) => b.source === exchange && typeof b.routing_key === 'string')
    .map((b) => String(b.routing_key));
}

/** A test's own connection to the broker: publishes with confirms and reads queues message by message. */
export class Injector {
  private constructor(
    private readonly connection: ChannelModel,
    private readonly channel: ConfirmChannel,
  ) {}

  static async open(url: string, connectionName: string): Promise<Injector> {
    const connection = await connectToAnyNode(url, { clientProperties: { connection_name: connectionName } });
    const channel = await connection.createConfirmChannel();
    return new Injector(connection, channel);
  }

  /** Publishes and waits for the broker's confirm; exchange '' with a queue name as routing key goes to that queue only. */
  async publish(exchange: string, routingKey: string, content: Buffer | string, options: Options.Publish = {}): Promise<void> {
    const body = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    await new Promise<void>((resolve, reject) => {
      this.channel.publish(exchange, routingKey, body, { persistent: true, ...options }, (err) =>
        err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(),
      );
    });
  }

  /** With the AMQP properties the services set for an envelope (DESIGN §4), so an injected copy looks like the original. */
  async publishEnvelope(exchange: string, routingKey: string, env: RawEnvelope): Promise<void> {
    await this.publish(exchange, routingKey, JSON.stringify(env), propertiesOf(env));
  }

  /** Takes (and acks) every message currently in `queue`. */
  async drain(queue: string): Promise<GetMessage[]> {
    const taken: GetMessage[] = [];
    for (;;) {
      const msg = await this.channel.get(queue, { noAck: false });
      if (msg === false) return taken;
      this.channel.ack(msg);
      taken.push(msg);
    }
  }

  async close(): Promise<void> {
    await this.channel.close();
    await this.connection.close();
  }
}

/** A copy of an envelope under a new message id: the same fact published again, as a buggy producer would. */
export function withNewId(env: RawEnvelope): RawEnvelope {
  return { ...env, id: randomUUID() };
}

// ---- the services' metrics and probes

export type Counters = Record<ServiceKey, number>;

type Replicas = Pick<ReplicaSet, 'up'>;

async function metricOf(replica: Replica, metric: string): Promise<number> {
  const res = await fetch(`${replica.url}/metrics`, { signal: AbortSignal.timeout(5_000) });
  if (res.status !== 200) throw new Error(`GET ${replica.url}/metrics (${replica.label}) answered ${res.status}`);
  return metricValue(await res.text(), metric) ?? 0;
}

/**
 * One counter family (summed over its labels) of every service, summed over the replicas that are up: each process
 * counts only what it consumed itself, and which replica gets a message is the broker's choice. A missing family
 * reads as 0; a replica restarted meanwhile starts again from 0, so compare only readings without a restart between.
 */
export async function counters(set: Replicas, metric: string): Promise<Counters> {
  const values = await Promise.all(
    serviceKeys.map(async (key) => {
      const each = await Promise.all(set.up(key).map((r) => metricOf(r, metric)));
      return [key, each.reduce((sum, v) => sum + v, 0)] as const;
    }),
  );
  return Object.fromEntries(values) as Counters;
}

/** The same counter family summed over the given replicas only (e.g. the ones left up after a kill). */
export async function counterOf(replicas: readonly Replica[], metric: string): Promise<number> {
  return (await Promise.all(replicas.map((r) => metricOf(r, metric)))).reduce((sum, v) => sum + v, 0);
}

/** Resolves once each service's counter grew by at least `expected` since `before`. */
export async function countersReached(set: Replicas, metric: string, before: Counters, expected: Partial<Counters>): Promise<boolean> {
  const now = await counters(set, metric);
  return serviceKeys.every((key) => now[key] - before[key] >= (expected[key] ?? 0));
}

/** True when every replica of every service is up and its /readyz answers 200. */
export async function everyReplicaReady(set: Pick<ReplicaSet, 'replicas'>): Promise<boolean> {
  const all = set.replicas();
  const answers = await Promise.all(
    all.map(async (r) => {
      if (r.state !== 'up') return false;
      const res = await fetch(`${r.url}/readyz`, { signal: AbortSignal.timeout(1_000) }).catch(() => undefined);
      return res?.status === 200;
    }),
  );
  return answers.every(Boolean);
}
