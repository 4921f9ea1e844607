// `npm run bench:trips`: trip-history read speed at 100 and 10,000 trips (in-memory; MongoDB too when MONGO_URL is set).
import { checkBroker } from '../../../test/support/system/broker';
import { cleanup, createContext, printTargets } from '../context';
import { benchTrips } from '../trips';

async function main(): Promise<void> {
  const ctx = createContext();
  ctx.out(`bench:trips run ${ctx.runId} (broker ${new URL(ctx.amqpUrl).host}; MongoDB ${ctx.mongoUrl ? 'from MONGO_URL' : 'NOT SET'})`);
  await checkBroker(ctx.amqpUrl);
  try {
    await benchTrips(ctx);
  } finally {
    await cleanup(ctx);
  }
  printTargets(ctx);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench:trips failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
