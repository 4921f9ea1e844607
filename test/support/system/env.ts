// The scripts' environment: one zod schema, read through loadConfig, so a bad value stops a script naming the variable.
import { z } from 'zod';
import { ConfigError, baseConfigSchema, loadConfig } from '@ridehail/shared';
import { configSchema as driverConfigSchema } from '../../../driver-service/src/main';
import { configSchema as notificationConfigSchema } from '../../../notification-service/src/main';

// The scripts have always treated an exported-but-empty variable as unset (`X || fallback`), and still do.
const emptyAsUndefined = (v: unknown) => (v === '' ? undefined : v);
const optionalText = z.preprocess(emptyAsUndefined, z.string().optional());
const optionalHttpUrl = z.preprocess(
  emptyAsUndefined,
  // The prefix is checked first, on the value as given: z.url() hands on the URL trimmed.
  z
    .string()
    .regex(/^https?:\/\//i, 'must be an http:// or https:// URL')
    .pipe(z.url())
    .optional(),
);

export const scriptEnvSchema = baseConfigSchema
  .pick({ AMQP_URL: true, MONGO_URL: true, BROKER_PREFIX: true, MONGO_DB_PREFIX: true })
  .extend({
    // Handed on to the services the scripts start, so they accept exactly what the services accept.
    SMTP_URL: notificationConfigSchema.shape.SMTP_URL,
    DRIVER_SEARCH_RADIUS_KM: z.preprocess(emptyAsUndefined, driverConfigSchema.shape.DRIVER_SEARCH_RADIUS_KM),
    /** A directory for a CPU profile of each service process (`node --cpu-prof`), e.g. while `npm run bench` runs. */
    STACK_CPU_PROF_DIR: optionalText,
    /** How `npm run stack` runs the services: compiled dist, TypeScript through tsx, or dist when it is up to date. */
    STACK_RUNTIME: z.preprocess(emptyAsUndefined, z.enum(['auto', 'dist', 'tsx']).default('auto')),
    /** Running services to use instead of http://127.0.0.1:3001-3004 (the defaults live in services.ts). */
    RIDE_SERVICE_URL: optionalHttpUrl,
    DRIVER_SERVICE_URL: optionalHttpUrl,
    PAYMENT_SERVICE_URL: optionalHttpUrl,
    NOTIFICATION_SERVICE_URL: optionalHttpUrl,
    /** The management API; unset, it is derived from AMQP_URL (same host and credentials, port 15672). */
    RABBITMQ_MANAGEMENT_URL: optionalHttpUrl,
    RABBITMQ_MANAGEMENT_USER: optionalText,
    RABBITMQ_MANAGEMENT_PASSWORD: optionalText,
    /** The rabbitmq_tracing trace; it names the log file on the broker's host and the browse queue. */
    TRACE_NAME: z.preprocess(
      emptyAsUndefined,
      z
        .string()
        .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, dot, dash and underscore only')
        .default('ridehail-saga'),
    ),
    /** https://no-color.org: any non-empty value turns colours off. */
    NO_COLOR: z
      .string()
      .optional()
      .transform((v) => v !== undefined && v !== ''),
    /** Where `scripts/screenshot.ts` writes its PNG. */
    OUT: optionalText,
    /** A playwright-core folder installed outside the project (screenshot.ts). */
    PLAYWRIGHT_CORE: optionalText,
    CHROMIUM_PATH: z.preprocess(emptyAsUndefined, z.string().default('/usr/bin/chromium')),
  });
export type ScriptEnv = z.infer<typeof scriptEnvSchema>;
export type ServiceUrlVariable = 'RIDE_SERVICE_URL' | 'DRIVER_SERVICE_URL' | 'PAYMENT_SERVICE_URL' | 'NOTIFICATION_SERVICE_URL';

let cached: ScriptEnv | undefined;

/** The scripts' variables, validated once per process; throws a ConfigError naming every bad one. */
export function scriptEnv(): ScriptEnv {
  cached ??= loadConfig(scriptEnvSchema);
  return cached;
}

/** scriptEnv() for a script's entry point: a bad variable ends the process with `<prefix> invalid configuration: NAME: …`. */
export function scriptEnvOrExit(prefix: string, exitCode = 1): ScriptEnv {
  try {
    return scriptEnv();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${prefix} ${err.message}\n`);
    process.exit(exitCode);
  }
}
