// Broker helpers for the scripts: a reachability check and the RabbitMQ management HTTP API (tracing, cleanup).
import { connectToAnyNode, firstAmqpUrl } from '@ridehail/shared';
import { scriptEnv, type ScriptEnv } from './env';

/** Connects once (to the first node that answers, when AMQP_URL lists several) and closes; says what to do when none is there. */
export async function checkBroker(amqpUrl: string, timeoutMs = 5000): Promise<void> {
  try {
    const connection = await connectToAnyNode(amqpUrl, { timeout: timeoutMs });
    await connection.close();
  } catch (err) {
    throw new Error(
      `RabbitMQ is not reachable at ${redactUrl(amqpUrl)} (${(err as Error).message || String(err)}). ` +
        'Start it (e.g. `rabbitmq-server -detached`, or `docker compose up -d rabbitmq`) or point AMQP_URL at one.',
      { cause: err },
    );
  }
}

/** The URL (or comma-separated URLs) without passwords. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/,]*):[^@/,]*@/g, '//$1:***@');
}

export interface ManagementOptions {
  /** e.g. http://localhost:15672; default from RABBITMQ_MANAGEMENT_URL, else derived from AMQP_URL's host. */
  baseUrl: string;
  user: string;
  password: string;
}

/**
 * The management API next to the broker of AMQP_URL (same host and credentials, port 15672) unless told otherwise;
 * of several nodes, the first one's.
 */
export function managementFromEnv(
  env: Pick<ScriptEnv, 'AMQP_URL' | 'RABBITMQ_MANAGEMENT_URL' | 'RABBITMQ_MANAGEMENT_USER' | 'RABBITMQ_MANAGEMENT_PASSWORD'> = scriptEnv(),
): ManagementOptions {
  const amqpUrl = new URL(firstAmqpUrl(env.AMQP_URL));
  const user = decodeURIComponent(amqpUrl.username) || 'guest';
  const password = decodeURIComponent(amqpUrl.password) || 'guest';
  const baseUrl = (env.RABBITMQ_MANAGEMENT_URL ?? `http://${amqpUrl.hostname || 'localhost'}:15672`).replace(/\/+$/, '');
  return { baseUrl, user: env.RABBITMQ_MANAGEMENT_USER ?? user, password: env.RABBITMQ_MANAGEMENT_PASSWORD ?? password };
}

export function vhostOf(env: Pick<ScriptEnv, 'AMQP_URL'> = scriptEnv()): string {
  const path = new URL(firstAmqpUrl(env.AMQP_URL)).pathname.replace(/^\//, '');
  return path.length > 0 ? decodeURIComponent(path) : '/';
}

export async function management(
  options: ManagementOptions,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const auth = Buffer.from(`${options.user}:${options.password}`).toString('base64');
  const res = await fetch(`${options.baseUrl}/api${path}`, {
    method,
    headers: { authorization: `Basic ${auth}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  let parsed: unknown = text;
  if (text.length > 0 && (res.headers.get('content-type') ?? '').includes('json')) parsed = JSON.parse(text);
  return { status: res.status, body: parsed };
}

/** Deletes every queue and exchange whose name starts with `prefix` (a test run's BROKER_PREFIX); returns their names. */
export async function deleteByPrefix(options: ManagementOptions, vhost: string, prefix: string): Promise<string[]> {
  if (prefix.length === 0) throw new Error('refusing to delete broker objects without a prefix');
  const v = encodeURIComponent(vhost);
  const deleted: string[] = [];
  for (const kind of ['queues', 'exchanges'] as const) {
    const list = await management(options, 'GET', `/${kind}/${v}?columns=name`);
    if (list.status !== 200 || !Array.isArray(list.body)) throw new Error(`GET /api/${kind} answered ${list.status}`);
    for (const item of list.body as unknown[]) {
      const name = typeof item === 'object' && item !== null ? (item as { name?: unknown }).name : undefined;
      if (typeof name !== 'string' || !name.startsWith(prefix)) continue;
      const res = await management(options, 'DELETE', `/${kind}/${v}/${encodeURIComponent(name)}`);
      if (res.status >= 300 && res.status !== 404) throw new Error(`DELETE /api/${kind}/${name} answered ${res.status}`);
      deleted.push(name);
    }
  }
  return deleted;
}
