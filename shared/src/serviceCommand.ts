// A command of a service over its own database (the trip-history rebuild, the seed): the store opened from the environment, the work, the store closed.
import { baseConfigSchema, loadConfig, type Env } from './config';
import { ConfigError } from './errors';
import { createLogger, errorMessage, type Logger } from './logger';
import { createStore } from './store/factory';
import type { CollectionSpec, Store } from './store/port';

export interface ServiceStoreCommand {
  service: string;
  /** The command's name in its logs and messages, e.g. `rebuild-trip-history`. */
  name: string;
  /** The service's database (without MONGO_DB_PREFIX). */
  database: string;
  /** The collections it reads and writes, for the service's currency. */
  collections(currency: string): CollectionSpec[];
}

const commandConfigSchema = baseConfigSchema.pick({ MONGO_URL: true, MONGO_DB_PREFIX: true, CURRENCY: true }).extend({
  // The command prints what it did itself, so its logs stay quiet unless asked.
  LOG_LEVEL: baseConfigSchema.shape.LOG_LEVEL.default('error'),
});

/** Runs `work` over the service's store (collections and indexes made as the service makes them), then closes it. */
export async function withServiceStore<T>(
  command: ServiceStoreCommand,
  env: Env,
  work: (store: Store, context: { logger: Logger; currency: string }) => Promise<T>,
): Promise<T> {
  const config = loadConfig(commandConfigSchema, env);
  // A command works on the service's MongoDB database: an in-memory store lives inside the service's own process, and
  // one opened here would be empty (a rebuild of it finds "no drift", a seed of it is lost at exit).
  if (config.MONGO_URL === undefined) throw new ConfigError('invalid configuration: MONGO_URL: required: the MongoDB the service uses');
  const logger = createLogger(`${command.service}:${command.name}`, config.LOG_LEVEL);
  const store = createStore({ mongoUrl: config.MONGO_URL, dbName: `${config.MONGO_DB_PREFIX}${command.database}`, logger });
  try {
    await store.init(command.collections(config.CURRENCY));
    return await work(store, { logger, currency: config.CURRENCY });
  } finally {
    await store.close();
  }
}

/** The `require.main === module` tail of a command: exits with its code, or 1 with the error on stderr. */
export function exitWith(command: Pick<ServiceStoreCommand, 'service' | 'name'>, run: Promise<number>): void {
  run.then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${command.service}: ${command.name}: ${errorMessage(err)}\n`);
      process.exit(1);
    },
  );
}
