// Seeding a person's trip history as a command of the service that owns it: N finished trips written as the service writes them, then folded.
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { Env } from './config';
import { exitWith, withServiceStore } from './serviceCommand';
import { foldAllLedger, type AnySummaryLedger } from './store/summaryLedger';
import type { CollectionSpec, Store, Transaction } from './store/port';

export interface SeedTripsCommand<Owner> {
  service: string;
  /** Whose trips: the option naming the person (`--rider <id>`, `--driver <id>`). */
  person: 'rider' | 'driver';
  /** The service's database (without MONGO_DB_PREFIX). */
  database: string;
  collections(currency: string): CollectionSpec[];
  /** The ledger the trips' changes go to: folded before the command ends, so the stored summary holds every trip. */
  ledger(currency: string): AnySummaryLedger;
  /** The person as the service stores them; null when the service does not know them. */
  owner(store: Store, id: string): Promise<Owner | null>;
  /** Writes one trip in its final state, in the caller's unit of work, as the service's own writes do. */
  writeTrip(tx: Transaction, owner: Owner, trip: SeedTrip, currency: string): Promise<void>;
}

/** Trip number `k` of a seeded person (0 the newest): the same ride id, times and fare in every service that seeds it. */
export interface SeedTrip {
  k: number;
  rideId: string;
  /** The trip's instant `plusSeconds` after it was requested (ISO 8601). */
  at(plusSeconds?: number): string;
  /** Its fare in minor units. */
  fare: number;
}

/** Trip k is requested k minutes before this instant: distinct, ordered sort keys whatever the day of the run. */
const NEWEST = Date.parse('2026-01-01T12:00:00.000Z');

export function seedTrip(k: number): SeedTrip {
  return {
    k,
    rideId: `seed-ride-${String(k).padStart(6, '0')}`,
    at: (plusSeconds = 0) => new Date(NEWEST - k * 60_000 + plusSeconds * 1000).toISOString(),
    fare: 800 + (k % 37) * 25,
  };
}

/** Trips per unit of work: a person's ledger rows are new rows each, so a batch contends on nothing. */
const TRIPS_PER_TRANSACTION = 100;

const usage = (person: string) => `usage: seed:trips -- --${person} <id> --count <n> [--from <k>]`;

function count(value: string | undefined, name: string, person: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, not ${String(value)} (${usage(person)})`);
  return n;
}

/**
 * Writes trips `from` … `from + count - 1` of one person (trip k is k minutes older than trip 0, so a later call with
 * `--from` adds older trips) and prints `<service>: seeded <n> <person> trips … in <s> s`. Resolves with the exit code.
 */
export async function runSeedTripsCommand<Owner>(
  command: SeedTripsCommand<Owner>,
  argv: string[] = process.argv.slice(2),
  env: Env = process.env,
): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { [command.person]: { type: 'string' }, count: { type: 'string' }, from: { type: 'string' } },
    strict: true,
  });
  const id = values[command.person];
  if (typeof id !== 'string' || id === '') throw new Error(usage(command.person));
  const total = count(values.count as string | undefined, 'count', command.person);
  const from = values.from === undefined ? 0 : count(values.from as string, 'from', command.person);
  return withServiceStore({ ...command, name: 'seed-trips' }, env, async (store, { currency }) => {
    const owner = await command.owner(store, id);
    if (owner === null) throw new Error(`${command.service} knows no ${command.person} ${id}`);
    const started = performance.now();
    for (let start = from; start < from + total; start += TRIPS_PER_TRANSACTION) {
      const end = Math.min(from + total, start + TRIPS_PER_TRANSACTION);
      await store.run(async (tx) => {
        for (let k = start; k < end; k++) await command.writeTrip(tx, owner, seedTrip(k), currency);
      });
    }
    // The service would fold these rows too, but only after a while: the person's stored summary holds them all now.
    await foldAllLedger(store, command.ledger(currency));
    const seconds = (performance.now() - started) / 1000;
    process.stdout.write(
      `${command.service}: seeded ${total} ${command.person} trips for ${id} (trips ${from}…${from + total - 1}) in ${seconds.toFixed(1)} s\n`,
    );
    return 0;
  });
}

/** The `require.main === module` tail of a seed command. */
export function runSeedTripsMain<Owner>(command: SeedTripsCommand<Owner>): void {
  exitWith({ service: command.service, name: 'seed-trips' }, runSeedTripsCommand(command));
}
