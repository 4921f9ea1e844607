// The trip-history rebuild as a command of the service that owns the data: recompute every summary, report each drift, repair.
import { baseConfigSchema, loadConfig, type Env } from './config';
import type { Drift, RebuildOptions } from './drift';
import { createLogger, errorMessage, type Logger } from './logger';
import { createStore } from './store/factory';
import type { CollectionSpec, Store } from './store/port';

export interface RebuildCommand {
  service: string;
  /** Whose summaries: `rider`, `driver`. */
  person: string;
  /** The service's database (without MONGO_DB_PREFIX). */
  database: string;
  /** The collections it reads and writes, ledger included, for the service's currency. */
  collections(currency: string): CollectionSpec[];
  rebuild(store: Store, logger: Logger, options: RebuildOptions): Promise<Drift[]>;
}

const rebuildConfigSchema = baseConfigSchema.pick({ MONGO_DB_PREFIX: true, CURRENCY: true }).extend({
  // The summaries live in the service's MongoDB database: without one there is nothing to rebuild.
  MONGO_URL: baseConfigSchema.shape.MONGO_URL.refine((v) => v !== undefined, 'required: the MongoDB the service uses'),
  // The rebuild logs each drift too; the command prints them itself, so its logs stay quiet unless asked.
  LOG_LEVEL: baseConfigSchema.shape.LOG_LEVEL.default('error'),
});

const show = (value: unknown): string => JSON.stringify(value) ?? 'undefined';

/**
 * Runs the command (`--dry-run` only reports) and resolves with its exit code: 0, or 1 when a dry run found drift.
 * Prints one line per drift and `<service>: <n> drift(s) …`.
 */
export async function runRebuildCommand(
  command: RebuildCommand,
  argv: string[] = process.argv.slice(2),
  env: Env = process.env,
): Promise<number> {
  const config = loadConfig(rebuildConfigSchema, env);
  const repair = !argv.includes('--dry-run');
  const logger = createLogger(`${command.service}:rebuild-trip-history`, config.LOG_LEVEL);
  const store = createStore({ mongoUrl: config.MONGO_URL, dbName: `${config.MONGO_DB_PREFIX}${command.database}`, logger });
  try {
    await store.init(command.collections(config.CURRENCY));
    const drifts = await command.rebuild(store, logger, { repair, currency: config.CURRENCY });
    for (const d of drifts) {
      process.stdout.write(
        `${command.service}: ${command.person} ${d.person} ${d.field}: stored ${show(d.stored)}, recomputed ${show(d.recomputed)}${repair ? ' (repaired)' : ''}\n`,
      );
    }
    const verdict =
      drifts.length === 0 ? 'no drift' : `${drifts.length} drift(s) ${repair ? 'found and repaired' : 'found (dry run: not repaired)'}`;
    process.stdout.write(`${command.service}: trip-history rebuild: ${verdict}\n`);
    return !repair && drifts.length > 0 ? 1 : 0;
  } finally {
    await store.close();
  }
}

/** The `require.main === module` tail of a rebuild command. */
export function runRebuildMain(command: RebuildCommand): void {
  runRebuildCommand(command).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${command.service}: rebuild-trip-history: ${errorMessage(err)}\n`);
      process.exit(1);
    },
  );
}
