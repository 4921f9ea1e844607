// Finds a RabbitMQ for the messaging lane: AMQP_URL, else a testcontainers broker when a container runtime is reachable, else the local one.
import { randomBytes } from 'node:crypto';
import { connectToAnyNode, firstAmqpUrl, redactAmqpUrl } from '@ridehail/shared';
import { containerRuntimeReachable, shared, type Located } from './sharedInfra';

export interface RabbitTarget {
  url: string;
  /** The management HTTP API (no credentials in it; they are the AMQP URL's), when known. */
  managementUrl?: string;
  /** Where it came from, for the lane banner (never contains credentials). */
  source: string;
  /** Gives this caller's use back; a container started here stops when its last user stops it. */
  stop(): Promise<void>;
}

export const RABBITMQ_IMAGE = process.env.RABBITMQ_IMAGE ?? 'rabbitmq:3.13-management';
const LOCAL_URL = 'amqp://guest:guest@127.0.0.1:5672';
const LOCAL_MANAGEMENT_URL = 'http://127.0.0.1:15672';

interface LocatedBroker extends Located {
  managementUrl?: string;
}

const leaseRabbit = shared<LocatedBroker>(locate);

/** One broker per test process, shared by every file that asks. */
export async function resolveRabbit(): Promise<RabbitTarget> {
  const lease = await leaseRabbit();
  // locate() always finds one (the local broker at worst); whether it answers is unreachableReason()'s question.
  if (!lease) throw new Error('no RabbitMQ located');
  const { found } = lease;
  const target: RabbitTarget = { url: found.url, source: found.source, stop: lease.release };
  if (found.managementUrl) target.managementUrl = found.managementUrl;
  return target;
}

async function locate(): Promise<LocatedBroker> {
  const url = process.env.AMQP_URL;
  if (url) {
    // Several nodes of one cluster (comma separated): the management API of the first.
    const managementUrl = process.env.RABBITMQ_MANAGEMENT_URL ?? `http://${new URL(firstAmqpUrl(url)).hostname || '127.0.0.1'}:15672`;
    return { url, managementUrl, source: `AMQP_URL (${redactAmqpUrl(url)})`, shutdown: async () => undefined };
  }
  if (await containerRuntimeReachable()) {
    const { RabbitMQContainer } = await import('@testcontainers/rabbitmq');
    const container = await new RabbitMQContainer(RABBITMQ_IMAGE).start();
    return {
      url: container.getAmqpUrl(),
      managementUrl: `http://${container.getHost()}:${container.getMappedPort(15672)}`,
      source: `testcontainers ${RABBITMQ_IMAGE}`,
      shutdown: async () => {
        await container.stop();
      },
    };
  }
  return {
    url: LOCAL_URL,
    managementUrl: LOCAL_MANAGEMENT_URL,
    source: 'local broker (no AMQP_URL, no container runtime)',
    shutdown: async () => undefined,
  };
}

/** Connects once; the reason it could not, or null when the broker answers. */
export async function unreachableReason(url: string, timeoutMs = 5_000): Promise<string | null> {
  try {
    const conn = await connectToAnyNode(url, { timeout: timeoutMs });
    await conn.close();
    return null;
  } catch (err) {
    return `${redactAmqpUrl(url)} unreachable: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/**
 * Asks the management API for its overview once; the reason it did not answer 200 (with `need`, what it is needed for,
 * in brackets), or undefined when it did.
 */
export async function managementUnreachableReason(
  target: Pick<RabbitTarget, 'url' | 'managementUrl'>,
  need?: string,
): Promise<string | undefined> {
  const overview = await management(target, 'GET', '/overview').catch((err: unknown) => ({ status: 0, body: String(err) }));
  if (overview.status === 200) return undefined;
  return `no RabbitMQ management API at ${target.managementUrl ?? '(none known)'}${need ? ` (${need})` : ''}: ${overview.status}`;
}

/** A BROKER_PREFIX no other run uses, e.g. `t-lq3k9a-1f2e3d.`. */
export function uniquePrefix(label = 't'): string {
  return `${label}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}.`;
}

/** The vhost of the (first node's) AMQP URL, decoded; `/` when the URL names none. */
export function vhostOf(url: string): string {
  const path = new URL(firstAmqpUrl(url)).pathname.replace(/^\//, '');
  return path.length > 0 ? decodeURIComponent(path) : '/';
}

/** A call to the management HTTP API with the AMQP URL's credentials (guest/guest when it has none). */
export async function management(
  target: Pick<RabbitTarget, 'url' | 'managementUrl'>,
  method: string,
  path: string,
): Promise<{ status: number; body: unknown }> {
  if (!target.managementUrl) throw new Error('no management API known for this broker');
  const amqpUrl = new URL(firstAmqpUrl(target.url));
  const user = decodeURIComponent(amqpUrl.username) || 'guest';
  const password = decodeURIComponent(amqpUrl.password) || 'guest';
  const res = await fetch(`${target.managementUrl.replace(/\/+$/, '')}/api${path}`, {
    method,
    headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` },
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  let body: unknown = text;
  if (text.length > 0 && (res.headers.get('content-type') ?? '').includes('json')) body = JSON.parse(text) as unknown;
  return { status: res.status, body };
}

/** The names of the vhost's queues (or exchanges) that start with `prefix`, from the management API. */
export async function listByPrefix(
  target: Pick<RabbitTarget, 'url' | 'managementUrl'>,
  kind: 'queues' | 'exchanges',
  prefix: string,
): Promise<string[]> {
  const res = await management(target, 'GET', `/${kind}/${encodeURIComponent(vhostOf(target.url))}?columns=name`);
  if (res.status !== 200 || !Array.isArray(res.body)) throw new Error(`management GET /${kind} answered ${res.status}`);
  return (res.body as unknown[])
    .map((x) => (typeof x === 'object' && x !== null && 'name' in x ? String((x as { name: unknown }).name) : ''))
    .filter((name) => name.startsWith(prefix));
}

/**
 * Deletes the queues and exchanges a test declared: every one the management API lists under `prefix`, plus the
 * `known` names (the fallback when the management API is not there). Returns what it deleted.
 */
export async function deleteDeclared(
  target: Pick<RabbitTarget, 'url' | 'managementUrl'> | string,
  prefix: string,
  known: { queues?: string[]; exchanges?: string[] } = {},
): Promise<{ queues: string[]; exchanges: string[] }> {
  if (prefix.length === 0) throw new Error('refusing to delete broker objects without a prefix');
  const t = typeof target === 'string' ? { url: target, managementUrl: LOCAL_MANAGEMENT_URL } : target;
  const queues = new Set(known.queues ?? []);
  const exchanges = new Set(known.exchanges ?? []);
  if (t.managementUrl) {
    try {
      for (const q of await listByPrefix(t, 'queues', prefix)) queues.add(q);
      for (const e of await listByPrefix(t, 'exchanges', prefix)) exchanges.add(e);
    } catch (err) {
      process.stderr.write(
        `deleteDeclared: management API not usable (${err instanceof Error ? err.message : String(err)}); deleting the known names only\n`,
      );
    }
  }
  const conn = await connectToAnyNode(t.url);
  try {
    const ch = await conn.createChannel();
    for (const q of queues) if (q.startsWith(prefix)) await ch.deleteQueue(q);
    for (const e of exchanges) if (e.startsWith(prefix)) await ch.deleteExchange(e);
    await ch.close();
  } finally {
    await conn.close();
  }
  return { queues: [...queues], exchanges: [...exchanges] };
}

/** Closes a client connection from the broker side (as an operator or a broker restart would), found by its connection_name. */
export async function closeConnectionByName(target: Pick<RabbitTarget, 'url' | 'managementUrl'>, connectionName: string): Promise<boolean> {
  const res = await management(target, 'GET', '/connections');
  if (res.status !== 200 || !Array.isArray(res.body)) throw new Error(`management GET /connections answered ${res.status}`);
  const matches = (res.body as { name?: unknown; client_properties?: { connection_name?: unknown } }[])
    .filter((c) => c.client_properties?.connection_name === connectionName)
    .map((c) => String(c.name));
  for (const name of matches) {
    const del = await management(target, 'DELETE', `/connections/${encodeURIComponent(name)}`);
    if (del.status >= 300 && del.status !== 404) throw new Error(`management DELETE /connections/${name} answered ${del.status}`);
  }
  return matches.length > 0;
}
