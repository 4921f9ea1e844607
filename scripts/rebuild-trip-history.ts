// `npm run rebuild:trip-history`: recomputes every rider and driver summary from the services' own trip records,
// prints each drift it found and a one-line total, and repairs them (`--dry-run` only reports; it then exits 1 on drift).
import {
  baseConfigSchema,
  createLogger,
  createStore,
  errorMessage,
  loadConfig,
  type CollectionSpec,
  type Drift,
  type Logger,
  type Store,
} from '@ridehail/shared';
import { z } from 'zod';
import { collections as driverCollections } from '../driver-service/src/store/collections';
import { rebuildDriverTripHistory } from '../driver-service/src/tripHistory/rebuild';
import { rideCollections } from '../ride-service/src/store/collections';
import { rebuildRiderTripHistory } from '../ride-service/src/tripHistory/rebuild';

const configSchema = baseConfigSchema.pick({ MONGO_DB_PREFIX: true, CURRENCY: true }).extend({
  // The summaries live in the services' MongoDB databases: without one there is nothing to rebuild.
  MONGO_URL: z
    .string({ error: (issue) => (issue.input === undefined ? 'required: the MongoDB the services use' : undefined) })
    .regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb:// URL'),
  // The rebuilds log each drift too; this script prints them itself, so their logs stay quiet unless asked.
  LOG_LEVEL: baseConfigSchema.shape.LOG_LEVEL.default('error'),
});

interface Side {
  service: string;
  person: string;
  database: string;
  collections: CollectionSpec[];
  rebuild(store: Store, logger: Logger, options: { repair: boolean; currency?: string }): Promise<Drift[]>;
}

const sides: Side[] = [
  { service: 'ride-service', person: 'rider', database: 'rides', collections: rideCollections, rebuild: rebuildRiderTripHistory },
  { service: 'driver-service', person: 'driver', database: 'drivers', collections: driverCollections, rebuild: rebuildDriverTripHistory },
];

const show = (value: unknown): string => JSON.stringify(value) ?? 'undefined';

async function main(): Promise<number> {
  const config = loadConfig(configSchema);
  const repair = !process.argv.includes('--dry-run');
  const logger = createLogger('rebuild-trip-history', config.LOG_LEVEL);
  const counts: string[] = [];
  let total = 0;
  for (const side of sides) {
    const store = createStore({ mongoUrl: config.MONGO_URL, dbName: `${config.MONGO_DB_PREFIX}${side.database}`, logger });
    try {
      await store.init(side.collections);
      const drifts = await side.rebuild(store, logger, { repair, currency: config.CURRENCY });
      for (const d of drifts) {
        process.stdout.write(
          `${side.service}: ${side.person} ${d.person} ${d.field}: stored ${show(d.stored)}, recomputed ${show(d.recomputed)}${repair ? ' (repaired)' : ''}\n`,
        );
      }
      counts.push(`${side.service} ${drifts.length}`);
      total += drifts.length;
    } finally {
      await store.close();
    }
  }
  const verdict = total === 0 ? 'no drift' : `${total} drift(s) ${repair ? 'found and repaired' : 'found (dry run: not repaired)'}`;
  process.stdout.write(`trip-history rebuild: ${verdict} (${counts.join(', ')})\n`);
  return !repair && total > 0 ? 1 : 0;
}

main()
  .then((code) => process.exit(code))
  .catch((err: unknown) => {
    process.stderr.write(`rebuild-trip-history: ${errorMessage(err)}\n`);
    process.exit(1);
  });
