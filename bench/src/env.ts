// The benchmarks' environment: one zod schema read through loadConfig, so a bad value stops the run naming the variable.
import { z } from 'zod';
import { amqpUrlSchema, baseConfigSchema, loadConfig } from '@ridehail/shared';

const emptyAsUndefined = (v: unknown) => (v === '' ? undefined : v);

export const benchEnvSchema = z.object({
  /** The benchmark measures one broker: of several nodes (comma separated) it takes the first. */
  AMQP_URL: z.preprocess(emptyAsUndefined, amqpUrlSchema.default('amqp://guest:guest@127.0.0.1:5672')),
  MONGO_URL: baseConfigSchema.shape.MONGO_URL,
  RABBITMQ_MANAGEMENT_URL: z.preprocess(emptyAsUndefined, z.url().optional()),
  LOG_LEVEL: baseConfigSchema.shape.LOG_LEVEL.default('warn'),
  /** Events put in the outbox by bench:relay. */
  BENCH_EVENTS: z.coerce.number().int().min(1).max(1_000_000).default(20_000),
  BENCH_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(500),
  BENCH_RELAY_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  /**
   * Only `processes` is left: the bench reaches the services over HTTP and the broker, never inside its own process,
   * so a run that still asks for `in-process` or `compare` stops here instead of measuring something else.
   */
  BENCH_SAGA_MODE: z.preprocess(
    emptyAsUndefined,
    z.literal('processes', { error: 'the services always run as four processes now (in-process and compare are gone)' }).optional(),
  ),
  /** Sections to run (default all): e.g. `sagas` alone while working on the saga path. The raw chain always runs. */
  BENCH_SECTIONS: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .default('sagas,relay,trips')
      .transform((v) => v.split(',').map((x) => x.trim()))
      .pipe(z.array(z.enum(['sagas', 'relay', 'trips']))),
  ),
  /** Stores of the whole-saga section (default both; MongoDB only when MONGO_URL is set). */
  BENCH_SAGA_STORES: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .default('memory,mongodb')
      .transform((v) => v.split(',').map((x) => x.trim()))
      .pipe(z.array(z.enum(['memory', 'mongodb']))),
  ),
});
export type BenchEnv = z.infer<typeof benchEnvSchema>;

let cached: BenchEnv | undefined;

export function benchEnv(): BenchEnv {
  cached ??= loadConfig(benchEnvSchema);
  return cached;
}
