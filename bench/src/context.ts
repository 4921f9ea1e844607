// What every benchmark section shares: where the broker and MongoDB are, a unique run id, output, targets, and the cleanup list.
import { randomBytes } from 'node:crypto';
import mongoose from 'mongoose';
import { firstAmqpUrl } from '@ridehail/shared';
import { deleteDeclared } from '../../test/support/rabbit';
import { targetLine, type TargetResult } from './stats';
import { benchEnv } from './env';

export interface BenchContext {
  amqpUrl: string;
  /** The management API next to the broker (for deleting what the run declared). */
  managementUrl: string;
  /** Unset: the MongoDB cases do not run (said loudly). */
  mongoUrl?: string;
  /** Unique per run: `bench-<time>-<random>`. */
  runId: string;
  out(line?: string): void;
  targets: TargetResult[];
  /** Broker prefixes and MongoDB databases this run created, deleted by `cleanup()`. */
  declared: { brokerPrefixes: string[]; mongoDatabases: string[] };
}

export function createContext(): BenchContext {
  const env = benchEnv();
  // One broker is measured: the first node when AMQP_URL lists several.
  const amqpUrl = firstAmqpUrl(env.AMQP_URL);
  const host = new URL(amqpUrl).hostname || '127.0.0.1';
  if (host !== '127.0.0.1' && host !== 'localhost') {
    throw new Error(`the benchmark only runs against a broker on 127.0.0.1 (AMQP_URL points at ${host})`);
  }
  const mongoUrl = env.MONGO_URL;
  if (mongoUrl) {
    const mongoHost = /^mongodb(?:\+srv)?:\/\/(?:[^@/]*@)?([^:/?,]+)/.exec(mongoUrl)?.[1];
    if (mongoHost !== '127.0.0.1' && mongoHost !== 'localhost')
      throw new Error(`the benchmark only runs against a MongoDB on 127.0.0.1 (MONGO_URL points at ${mongoHost ?? '?'})`);
  }
  return {
    amqpUrl,
    managementUrl: env.RABBITMQ_MANAGEMENT_URL ?? `http://${host}:15672`,
    mongoUrl,
    runId: `bench-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`,
    out: (line = '') => process.stdout.write(`${line}\n`),
    targets: [],
    declared: { brokerPrefixes: [], mongoDatabases: [] },
  };
}

/** A BROKER_PREFIX for one section of the run (registered for cleanup). */
export function brokerPrefix(ctx: BenchContext, section: string): string {
  const prefix = `${ctx.runId}.${section}.`;
  ctx.declared.brokerPrefixes.push(prefix);
  return prefix;
}

/** A MONGO_DB_PREFIX for one section (keep `section` short); the services' databases under it are registered for cleanup. */
export function mongoDbPrefix(ctx: BenchContext, section: string, databases: readonly string[]): string {
  const prefix = `${ctx.runId}_${section}_`.replace(/[^A-Za-z0-9_-]/g, '_');
  for (const db of databases) ctx.declared.mongoDatabases.push(`${prefix}${db}`);
  return prefix;
}

export function record(ctx: BenchContext, target: TargetResult): void {
  ctx.targets.push(target);
  ctx.out(`  ${targetLine(target)}`);
}

export function banner(ctx: BenchContext, title: string): void {
  ctx.out();
  ctx.out(`== ${title} ${'='.repeat(Math.max(3, 100 - title.length))}`);
}

/** Deletes every queue and exchange under the run's prefixes and drops its MongoDB databases; reports, never throws. */
export async function cleanup(ctx: BenchContext): Promise<void> {
  let queues = 0;
  let exchanges = 0;
  for (const prefix of ctx.declared.brokerPrefixes) {
    try {
      const deleted = await deleteDeclared({ url: ctx.amqpUrl, managementUrl: ctx.managementUrl }, prefix);
      queues += deleted.queues.length;
      exchanges += deleted.exchanges.length;
    } catch (err) {
      ctx.out(`!!! cleanup: could not delete the broker objects under ${prefix}: ${(err as Error).message}`);
    }
  }
  let dropped = 0;
  if (ctx.mongoUrl && ctx.declared.mongoDatabases.length > 0) {
    const connection = mongoose.createConnection(ctx.mongoUrl, { serverSelectionTimeoutMS: 5_000 });
    try {
      await connection.asPromise();
      for (const db of ctx.declared.mongoDatabases) {
        await connection.useDb(db, { useCache: false }).dropDatabase();
        dropped++;
      }
    } catch (err) {
      ctx.out(`!!! cleanup: could not drop the MongoDB databases ${ctx.declared.mongoDatabases.join(', ')}: ${(err as Error).message}`);
    } finally {
      await connection.close();
    }
  }
  ctx.out(
    `cleanup: deleted ${queues} queues and ${exchanges} exchanges under ${ctx.runId}.*${ctx.mongoUrl ? `, dropped ${dropped} MongoDB databases` : ''}`,
  );
}

/** The closing table: every target with its measured figure and verdict, misses included. */
export function printTargets(ctx: BenchContext): void {
  banner(ctx, 'targets');
  for (const t of ctx.targets) ctx.out(`  ${targetLine(t)}`);
  const missed = ctx.targets.filter((t) => t.verdict === 'MISS').length;
  const notRun = ctx.targets.filter((t) => t.verdict === 'NOT RUN').length;
  ctx.out(
    `  ${ctx.targets.length - missed - notRun} PASS, ${missed} MISS, ${notRun} NOT RUN (a benchmark reports; it does not fail the build)`,
  );
}
