// Configuration: one zod schema per process, validated at boot; the only module that reads process.env.
import { z } from 'zod';
import { ConfigError } from './errors';

const emptyAsUndefined = (v: unknown) => (v === '' ? undefined : v);

/** The variables every service reads (DESIGN §7); services extend this schema with their own. */
export const baseConfigSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535),
  AMQP_URL: z.preprocess(emptyAsUndefined, z.url().default('amqp://localhost')),
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
  OUTBOX_LEASE_MS: z.coerce.number().int().min(1000).default(10000),
  PREFETCH: z.coerce.number().int().min(1).max(10000).default(32),
  /** ISO 4217 code of every amount (fares, payments, trip totals), in integer minor units. */
  CURRENCY: z
    .string()
    .regex(/^[A-Z]{3}$/, 'a 3-letter ISO 4217 code')
    .default('EUR'),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).default(10000),
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
