// Configuration: one zod schema per process, validated at boot; the only module that reads process.env.
import { z } from 'zod';
import { ConfigError } from './errors';

const emptyAsUndefined = (v: unknown) => (v === '' ? undefined : v);

/** The nodes of one RabbitMQ cluster in `AMQP_URL`, comma separated (one URL is a list of one). */
export function amqpUrls(value: string): string[] {
  return value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
}

/** The first node of `AMQP_URL`: what scripts use to derive a host (e.g. the management API's). */
export function firstAmqpUrl(value: string): string {
  return amqpUrls(value)[0] ?? value;
}

function isAmqpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'amqp:' || url.protocol === 'amqps:') && url.hostname.length > 0;
  } catch {
    return false;
  }
}

/** One amqp(s):// URL, or several nodes of one cluster separated by commas; the string is kept as given. */
export const amqpUrlSchema = z.string().refine((v) => v.split(',').every((part) => isAmqpUrl(part.trim())), {
  message: 'an amqp:// or amqps:// URL, or several (the nodes of one cluster) separated by commas',
});

/** quorum: replicated queues that survive the loss of a node (RabbitMQ 3.10+ for TTL retry queues); classic: no replication. */
export const queueTypes = ['quorum', 'classic'] as const;
export type QueueType = (typeof queueTypes)[number];

/** The outbox lease when OUTBOX_LEASE_MS is unset; the relay's own default for callers without a config. */
export const DEFAULT_OUTBOX_LEASE_MS = 10_000;

/** The variables every service reads (DESIGN §7); services extend this schema with their own. */
export const baseConfigSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535),
  /** One broker, or the nodes of one cluster separated by commas; a lost connection reconnects to the next that answers. */
  AMQP_URL: z.preprocess(emptyAsUndefined, amqpUrlSchema.default('amqp://localhost')),
  /** The type of the service, retry and parking queues (DESIGN §4): quorum by default, classic for a broker without them. */
  QUEUE_TYPE: z.preprocess(emptyAsUndefined, z.enum(queueTypes).default('quorum')),
  MONGO_URL: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb:// URL')
      .optional(),
  ),
  BROKER_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9._-]*$/, 'letters, digits, dot, dash and underscore only')
    .default(''),
  MONGO_DB_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]*$/, 'letters, digits, dash and underscore only')
    .default(''),
  LOG_LEVEL: z.enum(['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly']).default('info'),
  /** Attempts before a message is parked (DESIGN §4: at least 3, default 5). */
  MAX_ATTEMPTS: z.coerce.number().int().min(3).max(20).default(5),
  /** Retry delays in ms, comma separated; the last repeats if there are more attempts than delays. */
  RETRY_DELAYS_MS: z
    .string()
    .regex(/^\d+(,\d+)*$/, 'comma-separated milliseconds')
    .default('1000,5000,25000,60000')
    .transform((s) => s.split(',').map(Number)),
  /** How long a relay's claim on outbox rows lasts; after a crash, another relay takes them over once it expires. */
  OUTBOX_LEASE_MS: z.coerce.number().int().min(1000).default(DEFAULT_OUTBOX_LEASE_MS),
  PREFETCH: z.coerce.number().int().min(1).max(10000).default(32),
  /** ISO 4217 code of every amount (fares, payments, trip totals), in integer minor units. */
  CURRENCY: z
    .string()
    .regex(/^[A-Z]{3}$/, 'a 3-letter ISO 4217 code')
    .default('EUR'),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).default(10000),
  /** The standard OpenTelemetry variables: set, spans are exported over OTLP/HTTP (e.g. http://jaeger:4318). */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.preprocess(emptyAsUndefined, z.string().url().optional()),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.preprocess(emptyAsUndefined, z.string().url().optional()),
});
export type BaseConfig = z.infer<typeof baseConfigSchema>;

export type Env = Record<string, string | undefined>;

/** Validates `env` (process.env by default); on failure throws a ConfigError naming every bad variable. */
export function loadConfig<S extends z.ZodType>(schema: S, env: Env = process.env): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new ConfigError(`invalid configuration: ${lines.join('; ')}`);
  }
  return parsed.data as z.infer<S>;
}

/** The environment as given to this process, for scripts that pass it on to child processes. */
export function processEnv(): Env {
  return { ...process.env };
}
