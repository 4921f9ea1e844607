// `npm run bench`: the raw broker baseline, whole sagas (in-memory, and MongoDB when MONGO_URL is set), the relay, and trip-history reads.
import { performance } from 'node:perf_hooks';
import { checkBroker } from '../../../test/support/system/broker';
import { cleanup, createContext, printTargets, type BenchContext } from '../context';
import { benchRelay } from '../relay';
import { benchRaw, benchSagas, loadLine } from '../sections';
import { benchEnv } from '../env';
import { benchTrips, redactMongo } from '../trips';

/** A run that hangs is a finding too, but it must not hold the terminal forever. */
const WATCHDOG_MS = 12 * 60_000;

/** Runs one section; a failure is printed loudly and the next section still runs. */
async function section(ctx: BenchContext, name: string, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (err) {
    ctx.out(`!!! ${name} FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    ctx.targets.push({
      name,
      measured: 'failed',
      target: 'a figure',
      verdict: 'MISS',
      note: err instanceof Error ? err.message : String(err),
    });
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const ctx = createContext();
  setTimeout(() => {
    process.stderr.write(
      `bench: still running after ${WATCHDOG_MS / 60_000} minutes; giving up (broker objects under ${ctx.runId}.* may be left)\n`,
    );
    process.exit(2);
  }, WATCHDOG_MS).unref();
  ctx.out(
    `bench run ${ctx.runId}: broker ${new URL(ctx.amqpUrl).host}, MongoDB ${ctx.mongoUrl ? redactMongo(ctx.mongoUrl) : 'NOT SET (the MongoDB cases will not run)'}`,
  );
  ctx.out(`(${loadLine()}; other work on the machine moves these figures: read each ratio, whose two sides share one run)`);
  await checkBroker(ctx.amqpUrl);
  try {
    let raw: Awaited<ReturnType<typeof benchRaw>> | null = null;
    await section(ctx, 'raw broker baseline', async () => {
      raw = await benchRaw(ctx);
    });
    const sections = benchEnv().BENCH_SECTIONS;
    if (sections.includes('sagas'))
      await section(ctx, 'whole sagas', async () => {
        if (raw === null) throw new Error('no raw baseline to compare with');
        await benchSagas(ctx, raw);
      });
    if (sections.includes('relay'))
      await section(ctx, 'relay', async () => {
        await benchRelay(ctx);
      });
    if (sections.includes('trips')) await section(ctx, 'trip history reads', () => benchTrips(ctx));
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
