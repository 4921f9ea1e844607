// `npm run tracing [on|off|status|show <rideId>]`: the rabbitmq_tracing plugin over the management HTTP API.
import { management, managementFromEnv, vhostOf, type ManagementOptions } from '../test/support/system/broker';
import { scriptEnvOrExit } from '../test/support/system/env';

const env = scriptEnvOrExit('tracing:');
const traceName = env.TRACE_NAME;
/** A capped queue on the firehose, so traced messages can be browsed with "Get messages" in the UI. */
const browseQueue = `${traceName}.trace`;
const browseQueueMax = 5000;

interface TraceInfo {
  name: string;
  vhost: string;
  pattern: string;
  format: string;
}

function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}

async function traces(m: ManagementOptions): Promise<TraceInfo[]> {
  const res = await management(m, 'GET', '/traces');
  if (res.status === 404 || res.status === 405) {
    throw new Error(
      'the management API has no /api/traces: enable the plugin with `rabbitmq-plugins enable rabbitmq_tracing` (docker compose enables it)',
    );
  }
  if (res.status !== 200 || !Array.isArray(res.body)) throw new Error(`GET /api/traces answered ${res.status}`);
  return res.body as TraceInfo[];
}

function whereToRead(m: ManagementOptions, vhost: string): void {
  say(`Read it:`);
  say(`  • management UI: ${m.baseUrl}/#/traces  (Admin → Tracing; log in as ${m.user}), click ${traceName}.log`);
  say(
    `  • management UI: ${m.baseUrl}/#/queues/${encodeURIComponent(vhost)}/${browseQueue} → Get messages: the latest ${browseQueueMax} published messages,`,
  );
  say(`    each with its routing key, exchange and properties (correlation_id = the ride id, message_id, app_id, x-causation-id)`);
  say(`  • the log file on the broker's host: /var/tmp/rabbitmq-tracing/${traceName}.log (one JSON object per line)`);
  say(`  • over HTTP: curl -u ${m.user}:*** ${m.baseUrl}/api/trace-files/${traceName}.log`);
  say(`  • one ride only: npm run tracing -- show <rideId>   (filters the log by correlation_id = the ride id)`);
  say(
    `Every message published to an exchange of vhost '${vhost}' is traced ("publish.<exchange>") and so is every delivery ("deliver.<queue>").`,
  );
  say(`Tracing costs throughput; turn it off with: npm run tracing -- off`);
}

async function on(m: ManagementOptions, vhost: string): Promise<void> {
  const existing = (await traces(m)).find((t) => t.name === traceName && t.vhost === vhost);
  if (existing) {
    say(`tracing is already on: trace '${traceName}' on vhost '${vhost}', pattern '${existing.pattern}', format ${existing.format}`);
  } else {
    const res = await management(m, 'PUT', `/traces/${encodeURIComponent(vhost)}/${encodeURIComponent(traceName)}`, {
      format: 'json',
      pattern: '#',
      max_payload_bytes: 8192,
      tracer_connection_username: m.user,
      tracer_connection_password: m.password,
    });
    if (res.status >= 300) throw new Error(`PUT /api/traces answered ${res.status}: ${JSON.stringify(res.body)}`);
    say(`tracing is on: trace '${traceName}' on vhost '${vhost}', pattern '#' on amq.rabbitmq.trace, format json`);
  }
  await ensureBrowseQueue(m, vhost);
  whereToRead(m, vhost);
}

/** Declares the capped browse queue and binds it to the trace exchange's publish.# (one copy per published message). */
async function ensureBrowseQueue(m: ManagementOptions, vhost: string): Promise<void> {
  const v = encodeURIComponent(vhost);
  const q = encodeURIComponent(browseQueue);
  const declared = await management(m, 'PUT', `/queues/${v}/${q}`, {
    durable: false,
    auto_delete: false,
    arguments: { 'x-max-length': browseQueueMax },
  });
  if (declared.status >= 300)
    throw new Error(`PUT /api/queues/${browseQueue} answered ${declared.status}: ${JSON.stringify(declared.body)}`);
  const bound = await management(m, 'POST', `/bindings/${v}/e/amq.rabbitmq.trace/q/${q}`, { routing_key: 'publish.#' });
  if (bound.status >= 300) throw new Error(`binding ${browseQueue} to amq.rabbitmq.trace answered ${bound.status}`);
}

async function off(m: ManagementOptions, vhost: string): Promise<void> {
  const dropped = await management(m, 'DELETE', `/queues/${encodeURIComponent(vhost)}/${encodeURIComponent(browseQueue)}`);
  if (dropped.status >= 300 && dropped.status !== 404) throw new Error(`DELETE /api/queues/${browseQueue} answered ${dropped.status}`);
  const res = await management(m, 'DELETE', `/traces/${encodeURIComponent(vhost)}/${encodeURIComponent(traceName)}`);
  if (res.status === 404) say(`tracing was not on (no trace '${traceName}' on vhost '${vhost}')`);
  else if (res.status >= 300) throw new Error(`DELETE /api/traces answered ${res.status}`);
  else say(`tracing is off; the log stays readable at ${m.baseUrl}/api/trace-files/${traceName}.log until deleted`);
}

async function status(m: ManagementOptions, vhost: string): Promise<void> {
  const all = await traces(m);
  if (all.length === 0) say('no trace is running');
  for (const t of all) say(`trace '${t.name}' on vhost '${t.vhost}': pattern '${t.pattern}', format ${t.format}`);
  if (all.some((t) => t.name === traceName && t.vhost === vhost)) whereToRead(m, vhost);
}

interface TraceLine {
  timestamp?: string;
  type?: string;
  exchange?: string;
  queue?: string;
  routing_keys?: string[];
  properties?: { correlation_id?: string; message_id?: string; app_id?: string; type?: string; headers?: Record<string, unknown> };
}

async function show(m: ManagementOptions, rideId: string): Promise<void> {
  const res = await management(m, 'GET', `/trace-files/${encodeURIComponent(`${traceName}.log`)}`);
  if (res.status === 404) throw new Error(`no trace log ${traceName}.log yet: run \`npm run tracing\` first, then request a ride`);
  if (res.status !== 200) throw new Error(`GET /api/trace-files answered ${res.status}`);
  const text = typeof res.body === 'string' ? res.body : JSON.stringify(res.body);
  let shown = 0;
  for (const raw of text.split('\n')) {
    if (raw.trim() === '') continue;
    const line = JSON.parse(raw) as TraceLine;
    if (line.properties?.correlation_id !== rideId) continue;
    shown += 1;
    const where = line.type === 'published' ? `published to ${line.exchange || '(default)'}` : `delivered from ${line.queue ?? '?'}`;
    const cause = line.properties.headers?.['x-causation-id'];
    say(
      `${line.timestamp ?? ''}  ${(line.routing_keys ?? []).join(',').padEnd(20)} ${where.padEnd(40)} ${line.properties.app_id ?? ''} ` +
        `id ${line.properties.message_id ?? '?'}${typeof cause === 'string' ? `  caused by ${cause}` : ''}`,
    );
  }
  say(shown === 0 ? `no traced message has correlation_id ${rideId}` : `${shown} trace entries for ride ${rideId}`);
}

async function main(): Promise<void> {
  const m = managementFromEnv(env);
  const vhost = vhostOf(env);
  const [command = 'on', arg] = process.argv.slice(2);
  switch (command) {
    case 'on':
      return on(m, vhost);
    case 'off':
      return off(m, vhost);
    case 'status':
      return status(m, vhost);
    case 'show':
      if (!arg) throw new Error('usage: npm run tracing -- show <rideId>');
      return show(m, arg);
    default:
      throw new Error(`unknown command ${command}; use on, off, status or show <rideId>`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`tracing: ${(err as Error).message}\n`);
  process.exit(1);
});
