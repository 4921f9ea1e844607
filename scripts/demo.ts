// `npm run demo`: runs every saga path of DESIGN §2 against the stack, prints each ride's timeline from the broker, audits.
import os from 'node:os';
import path from 'node:path';
import { redactAmqpUrl, waitFor } from '@ridehail/shared';
import { SagaApi, metricValue } from '../test/support/system/api';
import { formatAudit, runAudit, type AuditReport } from '../test/support/system/audit';
import { checkBroker, management, managementFromEnv, vhostOf } from '../test/support/system/broker';
import { scriptEnvOrExit } from '../test/support/system/env';
import { amountOf, type MoneyView } from '../test/support/system/http';
import {
  completion,
  flakyPayment,
  happyPath,
  noDriver,
  paymentDeclined,
  refreshResult,
  riderCancel,
  seedWorld,
  type ScenarioContext,
  type ScenarioResult,
} from '../test/support/system/scenarios';
import { services, serviceUrlsFromEnv, type ServiceKey } from '../test/support/system/services';
import { fileOutput, startStack, type Stack } from '../test/support/system/stack';
import { openTap, type Tap } from '../test/support/system/tap';
import { buildTimeline, renderTimeline } from '../test/support/system/timeline';

const env = scriptEnvOrExit('demo failed:', 2);
const colour = process.stdout.isTTY === true && !env.NO_COLOR;
const paint = (code: number, s: string) => (colour ? `\x1b[${code}m${s}\x1b[0m` : s);
const bold = (s: string) => paint(1, s);
const dim = (s: string) => paint(2, s);
const green = (s: string) => paint(32, s);
const red = (s: string) => paint(31, s);

function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}

function heading(title: string): void {
  say();
  say(bold(`━━ ${title} ${'━'.repeat(Math.max(3, 76 - title.length))}`));
}

const money = (m: MoneyView | number | null | undefined, currency = 'EUR') =>
  m === null || m === undefined ? '—' : `${(amountOf(m) / 100).toFixed(2)} ${typeof m === 'number' ? currency : m.currency}`;

interface Started {
  stack?: Stack;
  logFile?: string;
}

/** Uses the services that answer /healthz; starts the missing ones (and only those) as child processes. */
async function ensureStack(api: SagaApi, amqpUrl: string, brokerPrefix: string): Promise<Started> {
  const up = await Promise.all(services.map((s) => api.probe(s.key, '/healthz')));
  const missing = services.filter((_, i) => !up[i]).map((s) => s.key);
  if (missing.length === 0) {
    say(`Using the running services: ${services.map((s) => `${s.name} ${api.urls[s.key]}`).join(', ')}`);
    return {};
  }
  await checkBroker(amqpUrl);
  const logFile = path.join(os.tmpdir(), `ridehail-demo-${process.pid}.log`);
  const mongoUrl = env.MONGO_URL;
  say(
    `Starting ${missing.map((k) => `${k}-service`).join(', ')} (${missing.length === 4 ? 'none was running' : 'the others are running'}) against ${redactAmqpUrl(amqpUrl)}`,
  );
  if (!mongoUrl) say(paint(33, '  MONGO_URL is not set: the services keep their data IN MEMORY (gone when the demo stops them).'));
  say(dim(`  service logs → ${logFile}`));
  const ports: Partial<Record<ServiceKey, number>> = {};
  for (const s of services) ports[s.key] = Number(new URL(api.urls[s.key]).port) || s.defaultPort;
  const started = Date.now();
  const stack = await startStack({
    only: missing,
    amqpUrl,
    mongoUrl,
    brokerPrefix,
    mongoDbPrefix: env.MONGO_DB_PREFIX,
    ports,
    smtpUrl: env.SMTP_URL,
    output: fileOutput(logFile),
    readyTimeoutMs: 120_000,
  });
  say(
    `  ready in ${((Date.now() - started) / 1000).toFixed(1)} s${stack.smtp ? ` (mails go to an in-process SMTP sink on ${stack.smtp.url})` : ''}`,
  );
  return { stack, logFile };
}

async function auditWhenQuiet(urls: SagaApi['urls'], tap: Tap, riderIds: string[]): Promise<AuditReport> {
  // The invariants are about a quiet system: retry until they hold or the system had ample time to settle.
  let last: AuditReport | undefined;
  try {
    await waitFor(
      async () => {
        last = await runAudit(urls, { messages: tap.messages, riderIds });
        return last.held;
      },
      { timeoutMs: 20_000, intervalMs: 500, description: 'the audit to hold' },
    );
  } catch (err) {
    if (!last) throw err;
  }
  if (!last) throw new Error('the audit did not run');
  return last;
}

/** Status, with the reason when it is a code (`payment_declined`), not a sentence. */
function outcomeOf(r: ScenarioResult): string {
  if (!r.ride) return 'no ride';
  return r.ride.reason && /^[a-z_]+$/.test(r.ride.reason) ? `${r.ride.status} (${r.ride.reason})` : r.ride.status;
}

function printScenario(n: number, r: ScenarioResult, tap: Tap): void {
  const outcome = outcomeOf(r);
  heading(`${n}. ${r.title}`);
  say(
    `ride ${bold(r.rideId || '—')}   expected ${r.expected}, got ${r.ok ? green(outcome + ' ✔') : red(outcome + ' ✘')}   ${dim(`(${r.tookMs} ms to reach it)`)}`,
  );
  if (r.rideId) {
    say(dim(`timeline from the broker (tap queue ${tap.queue}), +ms since POST /rides:`));
    for (const line of renderTimeline(buildTimeline(tap.forRide(r.rideId)), { since: r.startedAt, colour })) say(`  ${line}`);
    const traceIds = [...new Set(tap.forRide(r.rideId).flatMap((m) => (m.traceId ? [m.traceId] : [])))];
    if (traceIds.length > 0) say(dim(`trace ${traceIds.join(', ')} (traceparent on every message; see it in Jaeger, below)`));
  }
  say(dim('final state:'));
  if (r.ride) {
    const history = r.ride.history.map((h) => h.status).join(' → ');
    say(`  ride          ${r.ride.status.padEnd(16)} fare ${money(r.ride.fare)}   history ${history}`);
  }
  if (r.driver)
    say(
      `  driver        ${r.driver.status.padEnd(16)} ${r.driver.name} (${r.driver.id})${r.driver.currentRideId ? `, holds ${r.driver.currentRideId}` : ''}`,
    );
  else say(`  driver        —`);
  if (r.payments.length === 0) say(`  payment       none`);
  for (const p of r.payments) say(`  payment       ${p.status.padEnd(16)} ${money(p)}  (${p.id})`);
  if (r.notifications.length === 0) say(`  notifications none`);
  for (const nt of r.notifications) say(`  notification  ${nt.status.padEnd(16)} ${nt.template} → ${nt.recipient}`);
  for (const note of r.notes) say(`  ${dim('note')}          ${note}`);
  for (const problem of r.problems) say(`  ${red('PROBLEM')}       ${problem}`);
}

async function printTripHistory(api: SagaApi, riderId: string, driverId: string | undefined): Promise<void> {
  heading('trip history (materialized views, DESIGN §9)');
  const rider = await api.riderTripsPage(riderId, { limit: 10 });
  const s = rider.summary;
  say(`${bold('rider')} ${riderId}  GET /riders/${riderId}/trips`);
  say(
    `  requested ${s.requested}, completed ${s.completed}, cancelled ${s.cancelled}, rejected ${s.rejected}, spent ${money(s.spent)}, last trip ${s.lastTripAt ?? '—'}`,
  );
  for (const t of rider.trips) {
    say(
      `  ${t.requestedAt.slice(11, 23)}  ${t.rideId}  ${t.status.padEnd(10)} fare ${money(t.fare).padEnd(10)} paid ${money(t.paid).padEnd(10)}${t.rating ? ` ${'★'.repeat(t.rating)}` : ''}`.trimEnd(),
    );
  }
  if (!driverId) return;
  const driver = await api.driverTripsPage(driverId, { limit: 10 });
  const d = driver.summary;
  say(`${bold('driver')} ${driverId}  GET /drivers/${driverId}/trips`);
  say(
    `  completed ${d.completed}, earnings ${money(d.earnings)}, rating ${d.rating.average} (${d.rating.count} rating${d.rating.count === 1 ? '' : 's'}), last trip ${d.lastTripAt ?? '—'}`,
  );
  for (const t of driver.trips) {
    say(
      `  ${t.assignedAt.slice(11, 23)}  ${t.rideId}  ${t.status.padEnd(10)} earned ${money(t.earned).padEnd(10)}${t.rating ? ` ${'★'.repeat(t.rating)}` : ''}`.trimEnd(),
    );
  }
}

async function printManagementPointers(brokerPrefix: string, results: ScenarioResult[]): Promise<void> {
  heading('the same messages in the RabbitMQ management UI');
  const m = managementFromEnv(env);
  let tracing = 'unknown (management API not reachable)';
  try {
    const res = await management(m, 'GET', '/traces');
    if (res.status === 200 && Array.isArray(res.body)) tracing = res.body.length > 0 ? 'ON' : 'off — `npm run tracing` turns it on';
    else if (res.status === 404) tracing = 'plugin not enabled (`rabbitmq-plugins enable rabbitmq_tracing`)';
  } catch (err) {
    tracing = `unknown (${(err as Error).message})`;
  }
  const p = brokerPrefix;
  say(`  ${m.baseUrl}  (log in as ${m.user})`);
  say(`  • Exchanges → ${services.map((s) => p + s.exchange).join(', ')}: one per publishing service, routing key = event type`);
  say(`  • Queues → ${services.map((s) => p + s.name).join(', ')}: consumed at once, so usually empty; their`);
  say(`    ${p}<service>.retry.<n> queues hold a retried message for its delay (the flaky payment), ${p}<service>.dlq the parked ones`);
  say(`  • Admin → Tracing (vhost '${vhostOf(env)}'): tracing is ${tracing}; with it on, the trace log has every publish`);
  say(`    and delivery, and Queues → ${env.TRACE_NAME}.trace → "Get messages" shows each published message with`);
  say(`    correlation_id (= the ride id), message_id, app_id (the service), type, headers x-causation-id / x-event-version`);
  const example = results.find((r) => r.key === 'complete')?.rideId ?? results[0]?.rideId;
  if (example) say(`    follow one ride: npm run tracing -- show ${example}`);
  heading('the same saga as one OpenTelemetry trace');
  say('  Every message carries the W3C `traceparent` of the work that emitted it; each service adds a span per HTTP request,');
  say('  outbox publish and handled message, so one saga is one trace from POST /rides to the last email (trace ids above).');
  say('  With OTEL_EXPORTER_OTLP_ENDPOINT set the services export their spans: `docker compose up` starts Jaeger and points');
  say('  them at it — open http://localhost:16686, service ride-service, or paste a trace id from above.');
}

async function main(): Promise<number> {
  const amqpUrl = env.AMQP_URL;
  const brokerPrefix = env.BROKER_PREFIX;
  const radiusKm = env.DRIVER_SEARCH_RADIUS_KM;
  const api = new SagaApi(serviceUrlsFromEnv(env));
  say(bold('ride-hailing saga demo') + dim('  — choreography over RabbitMQ, outbox + inbox per service'));

  const started = await ensureStack(api, amqpUrl, brokerPrefix);
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) return;
    interrupted = true;
    say('\ninterrupted: stopping what the demo started');
    const done = started.stack ? started.stack.stop() : Promise.resolve({});
    void done.then(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let tap: Tap | undefined;
  try {
    tap = await openTap({ amqpUrl, brokerPrefix, name: 'demo.tap' });
    const tag = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
    const world = await seedWorld(api, { drivers: 6, radiusKm, tag });
    heading('seed');
    say(`rider  ${world.rider.name} <${world.rider.email}> (${world.rider.id})`);
    say(`drivers ${world.drivers.length} around ${world.place} (${world.center.lat}, ${world.center.lng}), all within 1.5 km:`);
    for (const d of world.drivers) say(`  ${d.name.padEnd(18)} ${d.id}  ${d.status}`);
    say(`"nowhere": (${world.nowhere.lat}, ${world.nowhere.lng}), no driver within ${radiusKm} km`);

    heading('running six sagas side by side');
    const width = 12;
    const ctx: ScenarioContext = {
      api,
      tap,
      timeoutMs: 15_000,
      progress: (key, line) => say(`  ${dim(new Date().toISOString().slice(11, 23))} ${paint(36, `[${key}]`.padEnd(width))} ${line}`),
    };
    const retriedBefore = metricValue(await api.metrics('payment'), 'messages_retried_total') ?? 0;
    const results = await Promise.all([
      happyPath(ctx, world),
      noDriver(ctx, world),
      paymentDeclined(ctx, world),
      flakyPayment(ctx, world, retriedBefore),
      riderCancel(ctx, world),
      completion(ctx, world, { stars: 5, comment: 'Smooth ride, great music.' }),
    ]);

    // Timelines and final states are printed once the broker has carried nothing new for a second.
    const open = tap;
    let lastCount = -1;
    let stableSince = Date.now();
    await waitFor(
      () => {
        if (open.messages.length !== lastCount) {
          lastCount = open.messages.length;
          stableSince = Date.now();
        }
        return Date.now() - stableSince >= 1000;
      },
      { timeoutMs: 10_000, intervalMs: 100, description: 'the broker to be quiet' },
      // Still busy after 10 s (e.g. someone else's traffic): print what there is; the audit below waits on its own.
    ).catch(() => undefined);
    const settled = await Promise.all(results.map((r) => refreshResult(api, r)));

    settled.forEach((r, i) => printScenario(i + 1, r, open));

    heading('audit (npm run audit): the invariants of DESIGN §2 and §9, read over HTTP');
    const report = await auditWhenQuiet(api.urls, tap, [world.rider.id]);
    for (const line of formatAudit(report, { colour })) say(`  ${line}`);
    if (tap.rejected.length > 0)
      say(red(`  ${tap.rejected.length} message(s) on the exchanges were not valid envelopes: ${tap.rejected[0]?.reason ?? ''}`));

    const completed = settled.find((r) => r.key === 'complete');
    await printManagementPointers(brokerPrefix, settled);
    await printTripHistory(api, world.rider.id, completed?.driver?.id);

    heading('summary');
    for (const r of settled) {
      const got = outcomeOf(r);
      say(
        `  ${r.ok ? green('✔') : red('✘')} ${r.title.padEnd(26)} ${got.padEnd(30)} expected ${r.expected.padEnd(28)} ${String(r.tookMs).padStart(6)} ms  ride ${r.rideId}`,
      );
    }
    const passed = settled.filter((r) => r.ok).length;
    say(
      `  ${report.held ? green('✔') : red('✘')} audit: ${
        report.held
          ? `all ${report.invariants.length} invariants held`
          : `violated ${report.invariants
              .filter((i) => !i.held)
              .map((i) => i.id)
              .join(', ')}`
      } (${report.counts.rides} rides, ${report.counts.drivers} drivers, ${tap.messages.length} messages tapped)`,
    );
    const ok = passed === results.length && report.held;
    say(
      ok
        ? green(bold(`demo: ${passed}/${results.length} scenarios ended as DESIGN §2 says; audit held`))
        : red(bold(`demo: ${passed}/${results.length} scenarios ended as DESIGN §2 says; audit ${report.held ? 'held' : 'FAILED'}`)),
    );
    if (started.logFile && !ok) say(`service logs: ${started.logFile}`);
    return ok ? 0 : 1;
  } finally {
    if (tap) await tap.close();
    if (started.stack && !interrupted) {
      say(dim(`stopping the ${started.stack.processes.length} service(s) the demo started…`));
      const codes = await started.stack.stop();
      say(
        dim(
          `stopped (${Object.entries(codes)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')})`,
        ),
      );
    }
  }
}

main()
  .then((code) => process.exit(code))
  .catch((err: unknown) => {
    process.stderr.write(`${red('demo failed:')} ${(err as Error).message}\n`);
    process.exit(2);
  });
