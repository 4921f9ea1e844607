// The trip-history rebuild as a command of the service that owns the data: recompute every summary, report each drift, repair.
import type { Env } from './config';
import type { Drift, RebuildOptions } from './drift';
import type { Logger } from './logger';
import { exitWith, withServiceStore } from './serviceCommand';
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
  const repair = !argv.includes('--dry-run');
  const named = { ...command, name: 'rebuild-trip-history' };
  return withServiceStore(named, env, async (store, { logger, currency }) => {
    const drifts = await command.rebuild(store, logger, { repair, currency });
    for (const d of drifts) {
      process.stdout.write(
        `${command.service}: ${command.person} ${d.person} ${d.field}: stored ${show(d.stored)}, recomputed ${show(d.recomputed)}${repair ? ' (repaired)' : ''}\n`,
      );
    }
    const verdict =
      drifts.length === 0 ? 'no drift' : `${drifts.length} drift(s) ${repair ? 'found and repaired' : 'found (dry run: not repaired)'}`;
    process.stdout.write(`${command.service}: trip-history rebuild: ${verdict}\n`);
    return !repair && drifts.length > 0 ? 1 : 0;
  });
}

/** The `require.main === module` tail of a rebuild command. */
export function runRebuildMain(command: RebuildCommand): void {
  exitWith({ service: command.service, name: 'rebuild-trip-history' }, runRebuildCommand(command));
}
