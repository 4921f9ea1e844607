// Fault injection for the faults lane: services as separately killable processes, broker-side connection cuts, raw publishing.
import { randomUUID } from 'node:crypto';
import type { ChannelModel, ConfirmChannel, GetMessage, Options } from 'amqplib';
import { connectToAnyNode, firstAmqpUrl, propertiesOf, type RawEnvelope } from '@ridehail/shared';
import { metricValue, type SagaApi } from './system/api';
import { services, type ServiceKey, type ServiceUrls } from './system/services';
import { freePort, startStack, type Stack, type StackOptions } from './system/stack';
import { management, type RabbitTarget } from './rabbit';

type Broker = Pick<RabbitTarget, 'url' | 'managementUrl'>;

export const serviceKeys: readonly ServiceKey[] = services.map((s) => s.key);

export function serviceName(key: ServiceKey): string {
  const found = services.find((s) => s.key === key);
  if (!found) throw new Error(`unknown service ${key}`);
  return found.name;
}

/**
 * The four services, each started as its own one-process stack on a fixed port, so that one of them can be killed
 * and started again on the same port while the others keep running (scripts/lib/stack.ts starts and stops all
 * four together only).
 */
export class FaultStack {
  private readonly stacks = new Map<ServiceKey, Stack>();

  private constructor(
    readonly urls: ServiceUrls,
    private readonly ports: Record<ServiceKey, number>,
    private readonly options: Omit<StackOptions, 'only' | 'ports'>,
  ) {}

  static async start(options: Omit<StackOptions, 'only' | 'ports'>): Promise<FaultStack> {
    const ports = {} as Record<ServiceKey, number>;
    const urls = {} as ServiceUrls;
    for (const key of serviceKeys) {
      ports[key] = await freePort();
      urls[key] = `http://127.0.0.1:${ports[key]}`;
    }
    const stack = new FaultStack(urls, ports, options);
    const started = await Promise.allSettled(serviceKeys.map((key) => stack.startOne(key)));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      await stack.stop();
      throw failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));
    }
    return stack;
  }

  pid(key: ServiceKey): number {
    const proc = this.stacks.get(key)?.processes[0];
    if (!proc) throw new Error(`${serviceName(key)} is not running`);
    return proc.pid;
  }

  /** Sends `signal` to the service's process and resolves with how it ended (the signal name after SIGKILL). */
  async kill(key: ServiceKey, signal: NodeJS.Signals = 'SIGKILL'): Promise<number | string> {
    const stack = this.stacks.get(key);
    const proc = stack?.processes[0];
    if (!stack || !proc) throw new Error(`${serviceName(key)} is not running`);
    process.kill(proc.pid, signal);
    const ended = await proc.exited;
    this.stacks.delete(key);
    return ended;
  }

  /** Starts the service again on its port, with the same settings; resolves once /readyz says 200. */
  async restart(key: ServiceKey): Promise<void> {
    if (this.stacks.has(key)) throw new Error(`${serviceName(key)} is still running; kill it first`);
    await this.startOne(key);
  }

  /** SIGTERM to every running service; resolves with their exit codes. */
  async stop(): Promise<Record<string, number | string>> {
    const codes: Record<string, number | string> = {};
    const running = [...this.stacks.values()];
    this.stacks.clear();
    for (const result of await Promise.all(running.map((s) => s.stop()))) Object.assign(codes, result);
    return codes;
  }

  private async startOne(key: ServiceKey): Promise<void> {
    const stack = await startStack({ ...this.options, only: [key], ports: this.ports });
    this.stacks.set(key, stack);
  }
}

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
  const vhost = encodeURIComponent(decodeURIComponent(new URL(firstAmqpUrl(broker.url)).pathname.replace(/^\//, '')) || '/');
  const res = await management(broker, 'GET', `/queues/${vhost}/${encodeURIComponent(queue)}/bindings`);
  if (res.status !== 200 || !Array.isArray(res.body)) throw new Error(`management GET bindings of ${queue} answered ${res.status}`);
  return (res.body as { source?: unknown; routing_key?: unknown }[])
    .filter((b) => b.source === exchange && typeof b.routing_key === 'string')
    .map((b) => String(b.routing_key));
}

/** AMQP properties as the services set them for an envelope (DESIGN §4), so an injected copy looks like the original. */
export function propertiesOfRaw(env: RawEnvelope): Options.Publish {
  return propertiesOf(env);
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

  async publishEnvelope(exchange: string, routingKey: string, env: RawEnvelope): Promise<void> {
    await this.publish(exchange, routingKey, JSON.stringify(env), propertiesOfRaw(env));
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

// ---- the services' metrics

export type Counters = Record<ServiceKey, number>;

/** One counter family (summed over its labels) of every service; a missing family reads as 0. */
export async function counters(api: SagaApi, metric: string): Promise<Counters> {
  const values = await Promise.all(serviceKeys.map(async (key) => [key, metricValue(await api.metrics(key), metric) ?? 0] as const));
  return Object.fromEntries(values) as Counters;
}

/** Resolves once each service's counter grew by at least `expected` since `before`. */
export async function countersReached(api: SagaApi, metric: string, before: Counters, expected: Partial<Counters>): Promise<boolean> {
  const now = await counters(api, metric);
  return serviceKeys.every((key) => now[key] - before[key] >= (expected[key] ?? 0));
}
