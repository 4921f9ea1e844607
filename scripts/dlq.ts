// `npm run dlq -- list|show|replay|purge [filters]`: the services' parked messages (DESIGN §7), over AMQP only.
import { parseArgs } from 'node:util';
import amqp from 'amqplib';
import { z } from 'zod';
import { handleParked, redactAmqpUrl, type ParkedAction, type ParkedFilter, type ParkedMessage } from '@ridehail/shared';
import { scriptEnvOrExit } from '../test/support/system/env';
import { services } from '../test/support/system/services';

const usage = `usage: npm run dlq -- <command> [filters] [options]
commands:
  list                 the parked messages that match (service, id, type, ride, reason, attempts, parked when)
  show <messageId>     one parked message whole: properties, headers, body
  replay               copies of the matching messages to their original exchange (confirmed), then removes them
  purge                removes the matching messages
filters (all optional, ANDed):
  --service <name>     ride, driver, payment, notification (or ride-service, …); default: all four
  --type <event>       e.g. payment.authorized
  --ride <id>          the ride (correlation id)
  --message <id>       one message id
  --reason <text>      a part of the parking reason (case-insensitive)
  --older-than <age>   parked at least this long ago: 30s, 10m, 2h, 1d
  --newer-than <age>   parked at most this long ago
  --limit <n>          at most n matches per service
options:
  --dry-run            replay/purge: say what would happen, change nothing
  --all                replay/purge with no filter at all (otherwise refused)
  --json               machine-readable output
AMQP_URL and BROKER_PREFIX say which broker and which queues (<prefix><service>.dlq).`;

const age = z
  .string()
  .regex(/^\d+(ms|s|m|h|d)$/, 'an age like 30s, 10m, 2h or 1d')
  .transform((v) => {
    const [, n, unit] = /^(\d+)(ms|s|m|h|d)$/.exec(v) as RegExpExecArray;
    const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[unit as 'ms' | 's' | 'm' | 'h' | 'd'];
    return Number(n) * factor;
  });

const argsSchema = z
  .object({
    command: z.enum(['list', 'show', 'replay', 'purge']),
    messageArg: z.string().min(1).optional(),
    service: z
      .string()
      .transform((v) => (v.endsWith('-service') ? v : `${v}-service`))
      .pipe(z.enum(['ride-service', 'driver-service', 'payment-service', 'notification-service']))
      .optional(),
    type: z.string().min(1).optional(),
    ride: z.string().min(1).optional(),
    message: z.string().min(1).optional(),
    reason: z.string().min(1).optional(),
    'older-than': age.optional(),
    'newer-than': age.optional(),
    limit: z.coerce.number().int().min(1).optional(),
    'dry-run': z.boolean().default(false),
    all: z.boolean().default(false),
    json: z.boolean().default(false),
  })
  .superRefine((a, ctx) => {
    if (a.command === 'show' && a.messageArg === undefined && a.message === undefined)
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'show needs a message id: npm run dlq -- show <messageId>' });
    const filtered = [a.type, a.ride, a.message, a.messageArg, a.reason, a['older-than'], a['newer-than']].some((v) => v !== undefined);
    if ((a.command === 'replay' || a.command === 'purge') && !filtered && !a.all)
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: `${a.command} with no filter touches every parked message: add --all to mean it`,
      });
  });
type Args = z.infer<typeof argsSchema>;

function parse(argv: string[]): Args {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      service: { type: 'string' },
      type: { type: 'string' },
      ride: { type: 'string' },
      message: { type: 'string' },
      reason: { type: 'string' },
      'older-than': { type: 'string' },
      'newer-than': { type: 'string' },
      limit: { type: 'string' },
      'dry-run': { type: 'boolean' },
      all: { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || positionals.length === 0) {
    process.stdout.write(`${usage}\n`);
    process.exit(values.help ? 0 : 2);
  }
  const parsed = argsSchema.safeParse({ ...values, command: positionals[0], messageArg: positionals[1] });
  if (!parsed.success) {
    process.stderr.write(
      `dlq: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'arguments'}: ${i.message}`).join('; ')}\n${usage}\n`,
    );
    process.exit(2);
  }
  return parsed.data;
}

function line(m: ParkedMessage): string {
  const when = m.parkedAt ? m.parkedAt.toISOString() : '?';
  return `  ${m.service.padEnd(20)} ${(m.messageId ?? '?').padEnd(36)} ${(m.type ?? '?').padEnd(19)} ride ${(m.rideId ?? '?').padEnd(36)} attempts ${String(m.attempts ?? '?').padEnd(2)} parked ${when}\n      reason: ${m.reason ?? '(none)'}`;
}

async function main(): Promise<void> {
  const env = scriptEnvOrExit('dlq:');
  const args = parse(process.argv.slice(2));
  const filter: ParkedFilter = {
    type: args.type,
    rideId: args.ride,
    messageId: args.message ?? args.messageArg,
    reason: args.reason,
    olderThanMs: args['older-than'],
    newerThanMs: args['newer-than'],
    limit: args.limit,
  };
  const action: ParkedAction = args.command === 'show' ? 'list' : args.command;
  const targets = args.service ? [args.service] : services.map((s) => s.name);
  const connection = await amqp.connect(env.AMQP_URL);
  const results: Array<{
    service: string;
    matched: number;
    done: number;
    skipped: string[];
    untouched: number;
    messages: ParkedMessage[];
  }> = [];
  try {
    for (const service of targets) {
      // A service that never ran has no parking queue: nothing is parked there.
      const outcome = await handleParked(connection, { prefix: env.BROKER_PREFIX, service, action, filter, dryRun: args['dry-run'] });
      results.push({
        service,
        matched: outcome.matched.length,
        done: outcome.done.length,
        skipped: outcome.skipped.map((s) => `${s.message.messageId ?? '?'}: ${s.why}`),
        untouched: outcome.untouched,
        messages: outcome.matched,
      });
    }
  } finally {
    await connection.close();
  }
  if (args.json) {
    process.stdout.write(`${JSON.stringify({ command: args.command, dryRun: args['dry-run'], results }, null, 2)}\n`);
    return;
  }
  process.stdout.write(`broker ${redactAmqpUrl(env.AMQP_URL)}, queues ${env.BROKER_PREFIX}<service>.dlq\n`);
  for (const r of results) {
    if (args.command === 'show') {
      for (const m of r.messages) {
        process.stdout.write(`${line(m)}\n  headers: ${JSON.stringify(m.headers)}\n  body: ${m.body}\n`);
      }
      continue;
    }
    const verb = args.command === 'replay' ? 'replayed' : args.command === 'purge' ? 'purged' : 'listed';
    const dry = args['dry-run'] && args.command !== 'list' ? ' (dry run: nothing changed)' : '';
    process.stdout.write(
      `${r.service}: ${r.matched} match, ${args.command === 'list' || dry ? 0 : r.done} ${verb}${dry}, ${r.untouched} other parked\n`,
    );
    for (const m of r.messages) process.stdout.write(`${line(m)}\n`);
    for (const s of r.skipped) process.stdout.write(`  not replayed: ${s}\n`);
  }
  if (args.command === 'show' && results.every((r) => r.messages.length === 0)) {
    process.stderr.write(`dlq: no parked message ${filter.messageId ?? ''}\n`);
    process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`dlq: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
