// The relay section: runs bin/relay.ts (`npm run bench:relay`; it exports nothing, so as a child process) and reads its closing line.
import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { banner, record, type BenchContext } from './context';
import { atLeast, notRun, pct } from './stats';
import { processEnv, type Env } from '@ridehail/shared';
import { benchEnv } from './env';

export interface RelayFigure {
  store: string;
  relayRate: number;
  rawRate: number;
  ratio: number;
}

const repoRoot = path.resolve(__dirname, '..', '..');
const relayBin = path.join(__dirname, 'bin', 'relay.ts');
/** `relay <store>: <n> events/s, raw <m> msg/s, ratio <r>` — the line bin/relay.ts promises to end with (issue 3 item 11). */
const LAST_LINE = /^relay (\S+): ([\d.]+) events\/s, raw ([\d.]+) msg\/s, ratio ([\d.]+)/;

export async function runRelayBench(ctx: BenchContext, mongoUrl: string | undefined, timeoutMs = 180_000): Promise<RelayFigure> {
  const env: Env = { ...processEnv(), AMQP_URL: ctx.amqpUrl, LOG_LEVEL: 'warn' };
  delete env.MONGO_URL;
  if (mongoUrl) env.MONGO_URL = mongoUrl;
  const child = spawn(process.execPath, ['--import', 'tsx', relayBin], {
    // The repository root: tsx finds the tsconfig there that maps @ridehail/shared to its sources.
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let figure: RelayFigure | null = null;
  const tail: string[] = [];
  const onLine = (line: string) => {
    ctx.out(`  | ${line}`);
    tail.push(line);
    const m = LAST_LINE.exec(line);
    if (m) figure = { store: m[1] as string, relayRate: Number(m[2]), rawRate: Number(m[3]), ratio: Number(m[4]) };
  };
  readline.createInterface({ input: child.stdout }).on('line', onLine);
  readline.createInterface({ input: child.stderr }).on('line', onLine);
  const code = await new Promise<number | string>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.once('exit', (c, signal) => {
      clearTimeout(timer);
      resolve(c ?? signal ?? 'unknown');
    });
  });
  if (code !== 0 || figure === null) {
    throw new Error(
      `bench/src/bin/relay.ts ${code === 0 ? 'did not print its closing line' : `exited with ${String(code)}`}; last lines: ${tail.slice(-3).join(' / ')}`,
    );
  }
  return figure;
}

/** Relay vs raw confirmed publish (target ≥ 50 %): in-memory outbox always, MongoDB outbox when MONGO_URL is set. */
export async function benchRelay(ctx: BenchContext): Promise<RelayFigure[]> {
  banner(
    ctx,
    `relay: outbox drain vs raw confirmed publish of the same ${benchEnv().BENCH_EVENTS.toLocaleString('en')} messages (bench/src/bin/relay.ts)`,
  );
  const figures: RelayFigure[] = [];
  const cases: (string | undefined)[] = [undefined];
  if (ctx.mongoUrl) cases.push(ctx.mongoUrl);
  for (const mongoUrl of cases) {
    const label = mongoUrl ? 'mongodb' : 'memory';
    ctx.out(`-- ${label} outbox`);
    try {
      const f = await runRelayBench(ctx, mongoUrl);
      figures.push(f);
      record(
        ctx,
        atLeast(`relay/${f.store} drain ${f.relayRate.toFixed(0)} events/s vs raw ${f.rawRate.toFixed(0)} msg/s`, f.ratio, 0.5, pct),
      );
    } catch (err) {
      ctx.out(`!!! relay/${label}: ${(err as Error).message}`);
      record(ctx, { ...notRun(`relay/${label}`, '≥ 50.0 %', (err as Error).message), verdict: 'MISS' });
    }
  }
  if (!ctx.mongoUrl) {
    ctx.out('!!! relay on MongoDB: DID NOT RUN — MONGO_URL is not set');
    ctx.targets.push(notRun('relay/mongodb', '≥ 50.0 %', 'MONGO_URL is not set'));
  }
  return figures;
}
