// `npm run bench`: the raw broker baseline, whole sagas (in-memory, and MongoDB when MONGO_URL is set), the relay, and trip-history reads.
import { performance } from 'node:perf_hooks';
import { cleanup, createContext, printTargets } from './bench/context';
import { benchRelay } from './bench/relay';
import { benchRaw, benchSagas, loadLine } from './bench/sections';
import { benchTrips, redactMongo } from './bench/trips';

async function main(): Promise<void> {
  const started = performance.now();
  const ctx = createContext();
  ctx.out(
    `bench run ${ctx.runId}: broker ${new URL(ctx.amqpUrl).host}, MongoDB ${ctx.mongoUrl ? redactMongo(ctx.mongoUrl) : 'NOT SET (the MongoDB cases will not run)'}`,
  );
  ctx.out(`(${loadLine()}; a shared machine's load moves these figures, so read the ratios, which share one run)`);
  try {
    const raw = await benchRaw(ctx);
    await benchSagas(ctx, raw);
    await benchRelay(ctx);
    await benchTrips(ctx);
  } finally {
    await cleanup(ctx);
  }
  printTargets(ctx);
  ctx.out(`bench took ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
