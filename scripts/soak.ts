// `npm run soak -- --minutes M --rate R --replicas N`: the soak lane (DESIGN §8) at the length and load asked for.
// Exit code: 0 when nothing was lost or doubled (and the outboxes drained, the audit held, no payment was authorized
// twice, no duplicate email is left unexplained), 1 when something was, 2 when it did not run.
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { managementUnreachableReason, resolveRabbit, unreachableReason } from '../test/support/rabbit';
import { formatSoakReport, runSoak, soakCounts } from '../test/support/soak';
import { scriptEnvOrExit } from '../test/support/system/env';

const usage = `usage: npm run soak -- --minutes M --rate R --replicas N [--drain-seconds S] [--runtime auto|dist|tsx]
  --minutes        minutes of offered load (fractions allowed), default 2
  --rate           sagas started per second, default 5
  --replicas       processes per service, default 2 (each SIGKILLed and restarted in turn; never all of a service at once)
  --drain-seconds  longest wait for the system to be quiet after the load, default 300
  --runtime        how the services run: dist (built), tsx, or auto (dist when up to date), default auto
Needs MONGO_URL (a replica set shared by every replica) and RabbitMQ with its management API (AMQP_URL, else 127.0.0.1).`;

const argsSchema = z.object({
  minutes: z.coerce
    .number()
    .positive()
    .max(24 * 60)
    .default(2),
  rate: z.coerce.number().positive().max(500).default(5),
  replicas: z.coerce.number().int().min(1).max(8).default(2),
  'drain-seconds': z.coerce.number().int().min(10).max(3600).default(300),
  runtime: z.enum(['auto', 'dist', 'tsx']).default('auto'),
});

function didNotRun(reason: string): never {
  process.stdout.write(`\n!!! lane soak: did not run (${reason})\n`);
  process.exit(2);
}

async function main(): Promise<number> {
  let raw: Record<string, unknown>;
  try {
    raw = parseArgs({
      args: process.argv.slice(2),
      options: {
        minutes: { type: 'string' },
        rate: { type: 'string' },
        replicas: { type: 'string' },
        'drain-seconds': { type: 'string' },
        runtime: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }).values;
  } catch (err) {
    process.stderr.write(`soak: ${(err as Error).message}\n${usage}\n`);
    return 2;
  }
  if (raw['help']) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const parsed = argsSchema.safeParse(raw);
  if (!parsed.success) {
    process.stderr.write(`soak: ${parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; ')}\n${usage}\n`);
    return 2;
  }
  const args = parsed.data;
  const env = scriptEnvOrExit('soak:', 2);
  if (!env.MONGO_URL) didNotRun('MONGO_URL is not set: replicas need one shared store');
  const rabbit = await resolveRabbit();
  try {
    const unreachable = await unreachableReason(rabbit.url);
    if (unreachable) didNotRun(`no broker: ${unreachable}`);
    const noManagement = await managementUnreachableReason(rabbit, 'needed to cut connections');
    if (noManagement) didNotRun(noManagement);
    if (args.replicas < 2)
      process.stdout.write('soak: one replica per service: no SIGKILLs (never all replicas of a service down at once)\n');

    const started = Date.now();
    const report = await runSoak({
      minutes: args.minutes,
      rate: args.rate,
      replicas: args.replicas,
      broker: rabbit,
      mongoUrl: env.MONGO_URL,
      runtime: args.runtime,
      drainTimeoutMs: args['drain-seconds'] * 1000,
      progress: (line) => process.stdout.write(`[soak +${((Date.now() - started) / 1000).toFixed(0)}s] ${line}\n`),
    });
    process.stdout.write(`\n${formatSoakReport(report).join('\n')}\n`);
    process.stdout.write(`\nlane soak: ran against ${report.ran.broker} + ${report.ran.store} (${soakCounts(report)})\n`);
    return report.problems.length === 0 ? 0 : 1;
  } finally {
    await rabbit.stop();
  }
}

main()
  .then((code) => process.exit(code))
  .catch((err: unknown) => {
    process.stderr.write(`soak: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
