// Broker helpers for the scripts: a reachability check and the RabbitMQ management HTTP API (tracing, cleanup).
import { connectToAnyNode, firstAmqpUrl, redactAmqpUrl } from '@ridehail/shared';
import { scriptEnv, type ScriptEnv } from './env';

/** Connects once (to the first node that answers, when AMQP_URL lists several) and closes; says what to do when none is there. */
export async function checkBroker(amqpUrl: string, timeoutMs = 5000): Promise<void> {
  try {
    const connection = await connectToAnyNode(amqpUrl, { timeout: timeoutMs });
    await connection.close();
  } catch (err) {
    throw new Error(
      `RabbitMQ is not reachable at ${redactAmqpUrl(amqpUrl)} (${(err as Error).message || String(err)}). ` +
        'Start it (e.g. `rabbitmq-server -detached`, or `docker compose up -d rabbitmq`) or point AMQP_URL at one.',
      { cause: err },
    );
  }
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
