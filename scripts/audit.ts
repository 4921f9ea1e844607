// `npm run audit`: reads the four services over HTTP and reports each invariant as held or violated.
// Exit code: 0 when all hold, else the sum of 2^(n-1) over violated invariants n (1..63); 100 when a service can't be read
// (or a variable naming one is invalid).
import { formatAudit, runAudit } from '../test/support/system/audit';
import { scriptEnvOrExit } from '../test/support/system/env';
import { services, serviceUrlsFromEnv } from '../test/support/system/services';

const env = scriptEnvOrExit('audit:', 100);

async function main(): Promise<number> {
  const urls = serviceUrlsFromEnv(env);
  const json = process.argv.includes('--json');
  const report = await runAudit(urls);
  if (json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    process.stdout.write(`audit of ${services.map((s) => `${s.name} ${urls[s.key]}`).join(', ')}\n`);
    process.stdout.write(
      `${report.counts.rides} rides, ${report.counts.riders} riders, ${report.counts.drivers} drivers, ${report.counts.payments} payments, ${report.counts.notifications} notifications\n`,
    );
    for (const line of formatAudit(report, { colour: process.stdout.isTTY === true && !env.NO_COLOR })) process.stdout.write(`${line}\n`);
  }
  return report.exitCode;
}

main()
  .then((code) => process.exit(code))
  .catch((err: unknown) => {
    process.stderr.write(`audit: could not read the services: ${(err as Error).message}\n`);
    process.stderr.write(
      'audit: are they running? (`npm run stack`, or set RIDE_SERVICE_URL, DRIVER_SERVICE_URL, PAYMENT_SERVICE_URL, NOTIFICATION_SERVICE_URL)\n',
    );
    process.exit(100);
  });
