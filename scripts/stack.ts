// `npm run stack`: the four services as separate processes against the local broker, until Ctrl-C.
import { parseArgs } from 'node:util';
import { redactAmqpUrl } from '@ridehail/shared';
import { z } from 'zod';
import { checkBroker } from '../test/support/system/broker';
import { scriptEnvOrExit } from '../test/support/system/env';
import { prefixedOutput, startStack } from '../test/support/system/stack';

function say(line: string): void {
  process.stdout.write(`[stack] ${line}\n`);
}

const env = scriptEnvOrExit('[stack] could not start:');

/** `--replicas N`: N processes per service on one queue and one store (DESIGN §5); more than one needs MONGO_URL. */
const argsSchema = z.object({ replicas: z.coerce.number().int().min(1).max(8).default(1) });

function parseCli(): z.infer<typeof argsSchema> {
  const { values } = parseArgs({ args: process.argv.slice(2), options: { replicas: { type: 'string' } } });
  const parsed = argsSchema.safeParse(values);
  if (!parsed.success) {
    process.stderr.write(`[stack] --replicas: ${parsed.error.issues.map((i) => i.message).join('; ')} (a whole number, 1-8)\n`);
    process.exit(2);
  }
  return parsed.data;
}
const cli = parseCli();

async function main(): Promise<void> {
  const mongoUrl = env.MONGO_URL;
  const amqpUrl = env.AMQP_URL;
  if (!mongoUrl) {
    process.stdout.write(
      '\n' +
        '  ************************************************************************\n' +
        '  *  MONGO_URL is not set: every service keeps its data IN MEMORY.        *\n' +
        '  *  Everything is lost when the stack stops. Set MONGO_URL (a replica    *\n' +
        '  *  set, e.g. mongodb://localhost:27017/?replicaSet=rs0) to keep it.     *\n' +
        '  ************************************************************************\n\n',
    );
  }
  if (cli.replicas > 1 && !mongoUrl) {
    process.stderr.write('[stack] --replicas needs MONGO_URL: replicas of a service must share one store\n');
    process.exit(2);
  }
  await checkBroker(amqpUrl);
  say(
    `broker ${redactAmqpUrl(amqpUrl)}${env.BROKER_PREFIX ? `, BROKER_PREFIX '${env.BROKER_PREFIX}'` : ''}; store ${mongoUrl ?? 'memory'}`,
  );

  const stack = await startStack({
    amqpUrl,
    mongoUrl,
    brokerPrefix: env.BROKER_PREFIX,
    mongoDbPrefix: env.MONGO_DB_PREFIX,
    smtpUrl: env.SMTP_URL,
    output: prefixedOutput(),
    runtime: env.STACK_RUNTIME,
    readyTimeoutMs: 90_000,
    replicas: cli.replicas,
  });
  if (stack.smtp) say(`SMTP_URL unset: mails go to an in-process sink on ${stack.smtp.url} (counted, not delivered)`);
  for (const p of stack.processes)
    say(`${p.service.name.padEnd(20)} ready on ${p.url}  (pid ${p.pid}, ${p.runtime === 'dist' ? 'node dist' : 'tsx'})`);
  say(
    `all four services ready${cli.replicas > 1 ? ` (${cli.replicas} replicas each)` : ''}. Management UI: http://localhost:15672 (guest/guest). Ctrl-C stops everything.`,
  );

  let signals = 0;
  let firstSignalAt = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    // One Ctrl-C can arrive twice (from the terminal and relayed by npm/tsx): only a later one means "kill now".
    if (signals > 0 && Date.now() - firstSignalAt < 2000) return;
    signals += 1;
    if (signals === 1) firstSignalAt = Date.now();
    if (signals > 1) {
      say(`${signal} again: killing the services now`);
      for (const p of stack.processes) process.kill(p.pid, 'SIGKILL');
      return;
    }
    say(`${signal}: stopping the services (they finish in-flight work first; Ctrl-C again to kill)`);
    stack
      .stop()
      .then((codes) => {
        say(
          `stopped: ${Object.entries(codes)
            .map(([name, code]) => `${name} ${code}`)
            .join(', ')}${stack.smtp ? `; the sink caught ${stack.smtp.mails.length} mail(s)` : ''}`,
        );
        process.exit(Object.values(codes).every((c) => c === 0) ? 0 : 1);
      })
      .catch((err: unknown) => {
        say(`stop failed: ${(err as Error).message}`);
        process.exit(1);
      });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  // A service that dies on its own takes the stack down with it, so nothing runs half-started.
  for (const p of stack.processes) {
    void p.exited.then((code) => {
      if (signals === 0) {
        say(`${p.service.name} exited on its own (${code}); stopping the others`);
        onSignal('SIGTERM');
      }
    });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`[stack] could not start: ${(err as Error).message}\n`);
  process.exit(1);
});
