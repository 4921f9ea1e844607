// The soak lane's runner (DESIGN §8): replicas of every service under offered load while processes are SIGKILLed and
// restarted, broker connections cut, and messages duplicated and reordered; it ends with counts, and says why it failed.
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChannelModel, ConsumeMessage, MessageProperties, Options } from 'amqplib';
import { connectToAnyNode, handleParked, redactAmqpUrl, type Point } from '@ridehail/shared';
import { AUTHORIZATION_MADE_LOG } from '../../payment-service/src/main';
import { SagaApi, metricValue } from './system/api';
import { doubleEffectsOnTheBroker, formatAudit, runAudit, type AuditReport } from './system/audit';
import { HttpError, type NotificationView, type PaymentView, type RideStatus, type RideView } from './system/http';
import { offset, pickNeighbourhood } from './system/scenarios';
import { serviceKeys, serviceName, services, type ServiceKey } from './system/services';
import type { Runtime } from './system/stack';
import type { TappedMessage } from './system/tap';
import { Injector, connectionsNamed, cutConnections } from './faults';
import { ownerOfConnection, portsConnectedTo, rssKb } from './procfs';
import { deleteDeclared, management, vhostOf, type RabbitTarget } from './rabbit';
import { ReplicaSet, type Replica } from './replicaSet';
import { startSmtpSink, type SinkMessage, type SmtpSink } from './smtpSink';
import { dropLaneDatabases } from './stack';

// ---- the paths of the offered load

export const sagaPaths = ['complete', 'flaky', 'declined', 'no-driver', 'cancel'] as const;
export type SagaPath = (typeof sagaPaths)[number];

interface PathSpec {
  title: string;
  paymentMethod: string;
  /** Pickup far from every driver. */
  far: boolean;
  status: RideStatus;
  reason?: string;
  /** Templates the rider must have been sent (SENT) at the end. */
  riderTemplates: string[];
  /** The ride's payments at the end. */
  payment: 'CAPTURED' | 'DECLINED' | 'none' | 'none-authorized';
}

export const pathSpecs: Record<SagaPath, PathSpec> = {
  complete: {
    title: 'happy path, then completed',
    paymentMethod: 'pm_card_visa',
    far: false,
    status: 'COMPLETED',
    riderTemplates: ['ride-confirmed', 'receipt'],
    payment: 'CAPTURED',
  },
  flaky: {
    title: 'flaky card, then completed',
    paymentMethod: 'pm_card_flaky',
    far: false,
    status: 'COMPLETED',
    riderTemplates: ['ride-confirmed', 'receipt'],
    payment: 'CAPTURED',
  },
  declined: {
    title: 'card declined',
    paymentMethod: 'pm_card_declined',
    far: false,
    status: 'CANCELLED',
    reason: 'payment_declined',
    riderTemplates: ['ride-cancelled'],
    payment: 'DECLINED',
  },
  'no-driver': {
    title: 'no driver nearby',
    paymentMethod: 'pm_card_visa',
    far: true,
    status: 'REJECTED',
    riderTemplates: ['ride-rejected'],
    payment: 'none',
  },
  cancel: {
    title: 'rider cancels at once',
    paymentMethod: 'pm_card_visa',
    far: false,
    status: 'CANCELLED',
    reason: 'rider_cancelled',
    riderTemplates: ['ride-cancelled'],
    payment: 'none-authorized',
  },
};

/** Share of each path in the offered load (most rides are completed). */
export const defaultMix: Record<SagaPath, number> = { complete: 0.55, flaky: 0.1, declined: 0.1, 'no-driver': 0.1, cancel: 0.15 };

export interface SoakOptions {
  /** Minutes of offered load (fractions allowed); the drain comes after. */
  minutes: number;
  /** Sagas started per second. */
  rate: number;
  /** Processes per service. */
  replicas: number;
  broker: Pick<RabbitTarget, 'url' | 'managementUrl'>;
  /** One MongoDB (replica set) shared by every replica. */
  mongoUrl: string;
  runtime?: Runtime;
  /** Longest wait, once the load and the faults stopped, for every saga to end and the system to be quiet. */
  drainTimeoutMs?: number;
  /** A SIGKILL about every this many ms (jittered ±25 %); the killed replica restarts 1-2 s later. 0: none. */
  killEveryMs?: number;
  restartAfterMs?: [number, number];
  /** Every service connection closed from the broker side about every this many ms. 0: none. */
  cutEveryMs?: number;
  /** Share of the events seen on the tap that are published again (half same id, half new id, half of them late). */
  duplicateShare?: number;
  mix?: Record<SagaPath, number>;
  riders?: number;
  /** Default: enough for the drivers held by rides in flight even when the machine falls behind, max(40, 60 × rate). */
  drivers?: number;
  /** Progress lines while it runs. */
  progress?: (line: string) => void;
  /** Where the services' output goes (one file, each line prefixed by its replica). */
  logFile?: string;
  /** Delete that file (and its folder, when the soak made it) when the soak passed. */
  removeLogOnPass?: boolean;
}

// ---- the report

export interface SagaIssue {
  path: SagaPath;
  rideId: string | undefined;
  detail: string;
}

export interface KillRecord {
  at: number;
  label: string;
  key: ServiceKey;
  pid: number;
  /** notification-service only: an SMTP transaction of this process was open at the kill. */
  inSmtpTransaction: boolean;
  /** notification-service only: emails this process had sent whose outcome it never recorded (another delivery did). */
  unrecordedSends: number;
}

export interface SoakReport {
  ran: {
    broker: string;
    store: string;
    brokerPrefix: string;
    mongoDbPrefix: string;
    replicas: number;
    rate: number;
    minutes: number;
    drivers: number;
    riders: number;
    startupMs: number;
    loadMs: number;
    drainMs: number;
    /** Reading what the services say, the DLQs and the audit, once quiet. */
    countMs: number;
    /** Stopping the replicas (SIGTERM), deleting the broker objects and the databases. */
    teardownMs: number;
    totalMs: number;
    quiet: boolean;
    quietWhy: string[];
    logFile: string;
  };
  sagas: {
    started: number;
    perPath: Record<SagaPath, { started: number; ended: Record<string, number>; atExpectedEnd: number; otherwise: number }>;
    endedOtherwise: SagaIssue[];
    lost: SagaIssue[];
    doubled: SagaIssue[];
    clientHttpRetries: number;
    /** Why the clients retried (a status code, or the error's name and message), most frequent first. */
    clientRetryReasons: Array<{ reason: string; count: number }>;
  };
  faults: {
    kills: KillRecord[];
    killsPerService: Record<ServiceKey, number>;
    restarts: number;
    restartFailures: string[];
    cuts: number;
    connectionsCut: number;
    faultErrors: string[];
    duplicatesSameId: number;
    duplicatesNewId: number;
    duplicatesDelayed: number;
  };
  broker: { messagesSeen: number; notEnvelopes: number; publishedTwice: SagaIssue[] };
  parked: Array<{ service: string; type: string; reason: string; count: number; rides: string[] }>;
  parkedTotal: number;
  outboxes: Array<{ replica: string; pending: number | undefined }>;
  outboxesDrained: boolean;
  emails: {
    total: number;
    duplicates: number;
    /** Duplicates no kill explains (a send repeated while its first outcome was recorded, or by no crash at all). */
    unexplained: number;
    details: string[];
    notificationKills: number;
    killsDuringSend: number;
    sendsCutByKills: number;
  };
  authorizations: {
    total: number;
    payments: number;
    maxPerPayment: number;
    /** Payments authorized more than once; `explained`: each earlier authorization's process was SIGKILLed after it and
     * before the payment was recorded (the crash window DESIGN §5 allows; a shared gateway answers the repeat from its
     * idempotency key, the payment id). */
    multiple: Array<{ paymentId: string; rideId: string; count: number; by: string[]; explained: boolean }>;
    /** Repeated authorizations no such kill explains: two deliveries at the gateway at once, a lease that failed. */
    unexplained: number;
    /** Payments the services list as AUTHORIZED/CAPTURED/VOIDED with no logged authorization (the count missed one). */
    unlogged: string[];
  };
  rss: Record<ServiceKey, { peakKb: number; peakReplica: string; endKb: Record<string, number>; perMinuteKb: number[] }>;
  errorLines: Record<ServiceKey, number>;
  audit: AuditReport | undefined;
  auditLines: string[];
  exitCodes: Record<string, number | string>;
  /** Why the soak failed; empty when it passed. */
  problems: string[];
}

// ---- small helpers

const terminal = new Set<RideStatus>(['COMPLETED', 'REJECTED', 'CANCELLED']);

function jitter(ms: number): number {
  return ms * (0.75 + Math.random() * 0.5);
}

function pick<T>(items: readonly T[]): T | undefined {
  return items[Math.floor(Math.random() * items.length)];
}

function pickPath(mix: Record<SagaPath, number>): SagaPath {
  const total = sagaPaths.reduce((sum, p) => sum + mix[p], 0);
  let r = Math.random() * total;
  for (const p of sagaPaths) {
    r -= mix[p];
    if (r < 0) return p;
  }
  return 'complete';
}

/** A network error, a timeout or a 5xx: the request may be sent again (to the next replica). */
function transient(err: unknown): boolean {
  if (err instanceof HttpError) return err.status >= 500;
  return err instanceof Error && ['TypeError', 'TimeoutError', 'AbortError', 'SyntaxError'].includes(err.name);
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function inBatches<T, R>(items: readonly T[], size: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) out.push(...(await Promise.all(items.slice(i, i + size).map(fn))));
  return out;
}

function endOf(ride: RideView | undefined): string {
  if (!ride) return 'unknown';
  return ride.status === 'CANCELLED' && ride.reason ? `CANCELLED (${ride.reason})` : ride.status;
}

function expectedEnd(spec: PathSpec): string {
  return spec.reason ? `${spec.status} (${spec.reason})` : spec.status;
}

const mb = (kb: number) => (kb / 1024).toFixed(0);

function publishOptions(props: MessageProperties, messageId: string | undefined): Options.Publish {
  const out: Options.Publish = { persistent: true };
  if (props.contentType !== undefined) out.contentType = String(props.contentType);
  if (props.contentEncoding !== undefined) out.contentEncoding = String(props.contentEncoding);
  if (props.headers !== undefined) out.headers = props.headers;
  if (props.correlationId !== undefined) out.correlationId = String(props.correlationId);
  if (props.timestamp !== undefined) out.timestamp = Number(props.timestamp);
  if (props.type !== undefined) out.type = String(props.type);
  if (props.appId !== undefined) out.appId = String(props.appId);
  if (messageId !== undefined) out.messageId = messageId;
  return out;
}

interface Saga {
  n: number;
  path: SagaPath;
  riderIndex: number;
  key: string;
  startedAt: number;
  rideId?: string;
  notes: string[];
  clientError?: string;
  /** The client's work on it (request, then complete or cancel) is over. */
  settled: boolean;
  done?: Promise<void>;
}

/** Runs the soak and tears everything down again; the report says what happened and, in `problems`, why it failed. */
export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const began = Date.now();
  const run = randomBytes(3).toString('hex');
  const brokerPrefix = `soak-${Date.now().toString(36)}-${run}.`;
  const mongoDbPrefix = `soak_${run}_`;
  const say = options.progress ?? (() => undefined);
  const mix = options.mix ?? defaultMix;
  const drainTimeoutMs = options.drainTimeoutMs ?? 150_000;
  const killEveryMs = options.killEveryMs ?? 4_000;
  const restartAfterMs = options.restartAfterMs ?? [1_000, 2_000];
  const cutEveryMs = options.cutEveryMs ?? 10_000;
  const duplicateShare = options.duplicateShare ?? 0.07;
  const riderCount = options.riders ?? 20;
  const driverCount = options.drivers ?? Math.max(40, Math.ceil(options.rate * 60));
  const radiusKm = 5;
  const logFile = options.logFile ?? path.join(os.tmpdir(), `ridehail-soak-${run}`, 'services.log');
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const log = fs.createWriteStream(logFile, { flags: 'a' });
  const broker = options.broker;
  const serviceConnectionNames = services.map((s) => `${brokerPrefix}${s.name}`);
  /** The lane's own events, in the services' log where they happened. */
  const note = (line: string) => log.write(`[soak] ${new Date().toISOString()} ${line}\n`);

  // What the services' output tells: authorizations really made (payment-service logs one line each), error lines.
  const authorizations = new Map<string, { rideId: string; made: Array<{ replica: Replica; start: number; at: number }> }>();
  const errorLines = Object.fromEntries(serviceKeys.map((k) => [k, 0])) as Record<ServiceKey, number>;
  const onOutput = (replica: Replica, start: number, line: string) => {
    const who = `${replica.label}.${start}`;
    log.write(`[${who}] ${line}\n`);
    if (line.includes('"level":"error"')) errorLines[replica.key] += 1;
    if (replica.key !== 'payment' || !line.includes(AUTHORIZATION_MADE_LOG)) return;
    try {
      const parsed = JSON.parse(line) as { message?: unknown; paymentId?: unknown; rideId?: unknown; timestamp?: unknown };
      if (parsed.message !== AUTHORIZATION_MADE_LOG || typeof parsed.paymentId !== 'string') return;
      const entry = authorizations.get(parsed.paymentId) ?? { rideId: String(parsed.rideId), made: [] };
      const at = typeof parsed.timestamp === 'string' ? Date.parse(parsed.timestamp) : Date.now();
      entry.made.push({ replica, start, at: Number.isNaN(at) ? Date.now() : at });
      authorizations.set(parsed.paymentId, entry);
    } catch {
      // not a JSON line
    }
  };

  // The SMTP sink, and which notification-service process each of its sessions came from.
  let set: ReplicaSet | undefined;
  const sessionOwner = new Map<string, Promise<number | undefined>>();
  /** Owners known for sure: the sessions a notification-service process held when it was killed (read just before). */
  const ownerAtKill = new Map<string, number>();
  /** The latest session from each client port. */
  const sessionOfPort = new Map<number, string>();
  const sink: SmtpSink = await startSmtpSink({
    onConnect: (session) => {
      sessionOfPort.set(session.remotePort, session.id);
      const pids = set?.livePids('notification') ?? [];
      sessionOwner.set(
        session.id,
        ownerOfConnection(session.remotePort, sink.port, pids).catch(() => undefined),
      );
    },
  });

  const faults: SoakReport['faults'] = {
    kills: [],
    killsPerService: Object.fromEntries(serviceKeys.map((k) => [k, 0])) as Record<ServiceKey, number>,
    restarts: 0,
    restartFailures: [],
    cuts: 0,
    connectionsCut: 0,
    faultErrors: [],
    duplicatesSameId: 0,
    duplicatesNewId: 0,
    duplicatesDelayed: 0,
  };
  const sagas: Saga[] = [];
  let clientHttpRetries = 0;
  const retryReasons = new Map<string, number>();
  const retried = (err: unknown) => {
    clientHttpRetries += 1;
    const reason =
      err instanceof HttpError ? `HTTP ${err.status}` : err instanceof Error ? `${err.name}: ${err.message}`.slice(0, 80) : String(err);
    retryReasons.set(reason, (retryReasons.get(reason) ?? 0) + 1);
  };
  let injector: Injector | undefined;
  let tapConnection: ChannelModel | undefined;
  const tapped: TappedMessage[] = [];
  let notEnvelopes = 0;
  const injected = new Set<string>();
  const decided = new Set<string>();
  const endedRides = new Set<string>();
  let duplicating = false;
  const pendingDuplicates = new Set<Promise<void>>();
  const pendingRestarts = new Set<Promise<void>>();
  const rss = {} as SoakReport['rss'];
  for (const k of serviceKeys) rss[k] = { peakKb: 0, peakReplica: '', endKb: {}, perMinuteKb: [] };
  const faultsStop = new AbortController();
  let sampler: NodeJS.Timeout | undefined;
  let progressTimer: NodeJS.Timeout | undefined;
  let exitCodes: Record<string, number | string> = {};
  const problems: string[] = [];

  let result: SoakReport | undefined;
  let teardownStart: number | undefined;

  try {
    // 1. the replicas, the tap and the injector
    set = await ReplicaSet.start({
      replicas: options.replicas,
      stack: {
        amqpUrl: broker.url,
        mongoUrl: options.mongoUrl,
        brokerPrefix,
        mongoDbPrefix,
        smtpUrl: sink.url,
        runtime: options.runtime ?? 'auto',
        env: { SHUTDOWN_TIMEOUT_MS: '10000' },
        readyTimeoutMs: 120_000,
        stopTimeoutMs: 20_000,
      },
      // info: payment-service's "gateway authorization made" lines are the count of authorizations; the others' say
      // what each delivery did, for when a saga goes wrong.
      logLevel: () => 'info',
      output: onOutput,
    });
    const replicas = set;
    const startupMs = Date.now() - began;
    note(
      `started ${replicas
        .replicas()
        .map((r) => `${r.label} pid ${r.pid ?? '?'}`)
        .join(', ')}`,
    );
    say(`${replicas.replicas().length} processes ready in ${(startupMs / 1000).toFixed(1)} s (log: ${logFile})`);
    const api = new SagaApi(replicas.urls);

    injector = await Injector.open(broker.url, `${brokerPrefix}soak.injector`);
    const inj = injector;
    tapConnection = await connectToAnyNode(broker.url, { clientProperties: { connection_name: `${brokerPrefix}soak.tap` } });
    tapConnection.on('error', (err: unknown) => faults.faultErrors.push(`tap connection: ${message(err)}`));
    const tapChannel = await tapConnection.createChannel();
    const tapQueue = `${brokerPrefix}soak.tap.${run}`;
    await tapChannel.assertQueue(tapQueue, { exclusive: true, autoDelete: true, durable: false });
    for (const s of services) await tapChannel.bindQueue(tapQueue, `${brokerPrefix}${s.exchange}`, '#');
    const onTapped = (msg: ConsumeMessage | null) => {
      if (!msg) return;
      let env: { id?: unknown; type?: unknown; correlationId?: unknown; payload?: unknown } & Record<string, unknown>;
      try {
        env = JSON.parse(msg.content.toString('utf8')) as typeof env;
      } catch {
        notEnvelopes += 1;
        return;
      }
      if (typeof env.id !== 'string' || typeof env.type !== 'string' || typeof env.correlationId !== 'string') {
        notEnvelopes += 1;
        return;
      }
      const payload = (typeof env.payload === 'object' && env.payload !== null ? env.payload : {}) as Record<string, unknown>;
      // Kept small: what the "published twice under different ids" check reads.
      const kept = env.type === 'notification.sent' ? { recipient: payload['recipient'], template: payload['template'] } : {};
      tapped.push({
        envelope: {
          id: env.id,
          type: env.type,
          version: 1,
          occurredAt: '',
          source: '',
          correlationId: env.correlationId,
          payload: kept,
        } as TappedMessage['envelope'],
        exchange: msg.fields.exchange,
        routingKey: msg.fields.routingKey,
        receivedAt: Date.now(),
      });
      if (env.type === 'ride.completed' || env.type === 'ride.rejected' || env.type === 'ride.cancelled') endedRides.add(env.correlationId);
      // Duplicates and reordering: each message seen for the first time may be published again.
      if (!duplicating || decided.has(env.id)) return;
      decided.add(env.id);
      if (Math.random() >= duplicateShare) return;
      const sameId = Math.random() < 0.5;
      const delayMs = Math.random() < 0.5 ? 0 : 500 + Math.random() * 4_500;
      let content = msg.content;
      let messageId = typeof msg.properties.messageId === 'string' ? msg.properties.messageId : env.id;
      if (sameId) faults.duplicatesSameId += 1;
      else {
        messageId = randomUUID();
        injected.add(messageId);
        decided.add(messageId);
        content = Buffer.from(JSON.stringify({ ...env, id: messageId }), 'utf8');
        faults.duplicatesNewId += 1;
      }
      if (delayMs > 0) faults.duplicatesDelayed += 1;
      note(
        `republishing ${env.type} ${env.id} of ride ${env.correlationId}${sameId ? ' (same id)' : ` as ${messageId}`}${delayMs > 0 ? ` in ${Math.round(delayMs)} ms` : ''}`,
      );
      const publishing = (async () => {
        if (delayMs > 0) await sleep(delayMs);
        await inj.publish(msg.fields.exchange, msg.fields.routingKey, content, publishOptions(msg.properties, messageId));
      })()
        .catch((err: unknown) => {
          faults.faultErrors.push(`duplicate of ${env.type as string} ${env.id as string}: ${message(err)}`);
        })
        .finally(() => pendingDuplicates.delete(publishing));
      pendingDuplicates.add(publishing);
    };
    await tapChannel.consume(tapQueue, onTapped, { noAck: true, exclusive: true });

    // 2. the world: riders, and drivers around one centre (pickups near it; "no driver" pickups 60+ km away)
    const { center, nowhere } = await pickNeighbourhood(api, radiusKm);
    const riders = await inBatches(
      Array.from({ length: riderCount }, (_, i) => i),
      5,
      (i) => api.createRider({ name: `Soak Rider ${i}`, email: `rider.${run}.${i}@riders.example` }),
    );
    await inBatches(
      Array.from({ length: driverCount }, (_, i) => i),
      8,
      (i) =>
        api.createDriver({
          name: `Soak Driver ${i}`,
          email: `driver.${run}.${i}@drivers.example`,
          location: offset(center, Math.cos(i) * 1.5 * Math.random(), Math.sin(i) * 1.5 * Math.random()),
        }),
    );
    say(`seeded ${riders.length} riders and ${driverCount} drivers`);

    // 3. memory: VmRSS of every replica every 3 s
    const sampleRss = async (end = false) => {
      const minute = Math.floor((Date.now() - began) / 60_000);
      for (const r of replicas.replicas()) {
        if (r.pid === undefined) continue;
        const kb = await rssKb(r.pid);
        if (kb === undefined) continue;
        const entry = rss[r.key];
        if (kb > entry.peakKb) {
          entry.peakKb = kb;
          entry.peakReplica = r.label;
        }
        entry.perMinuteKb[minute] = Math.max(entry.perMinuteKb[minute] ?? 0, kb);
        if (end) entry.endKb[r.label] = kb;
      }
    };
    sampler = setInterval(() => void sampleRss(), 3_000);

    // 4. the faults
    const stopped = faultsStop.signal;
    const pause = (ms: number) =>
      sleep(ms, undefined, { signal: stopped }).then(
        () => true,
        () => false,
      );
    const restartLater = (victim: Replica) => {
      const restarting = (async () => {
        await sleep(restartAfterMs[0] + Math.random() * (restartAfterMs[1] - restartAfterMs[0]));
        for (let attempt = 1; attempt <= 3; attempt += 1) {
          try {
            note(`restarting ${victim.label}`);
            await replicas.restart(victim);
            note(`${victim.label} up again as pid ${victim.pid ?? '?'}`);
            faults.restarts += 1;
            return;
          } catch (err) {
            faults.restartFailures.push(`${victim.label} (attempt ${attempt}): ${message(err)}`);
          }
        }
      })().finally(() => pendingRestarts.delete(restarting));
      pendingRestarts.add(restarting);
    };
    const killer = async () => {
      if (killEveryMs <= 0) return;
      while (await pause(jitter(killEveryMs))) {
        const victim = pick(replicas.up().filter((r) => replicas.canKill(r)));
        if (!victim || victim.pid === undefined) continue;
        const record: KillRecord = {
          at: 0,
          label: victim.label,
          key: victim.key,
          pid: victim.pid,
          inSmtpTransaction: false,
          unrecordedSends: 0,
        };
        if (victim.key === 'notification') {
          const ports = await portsConnectedTo(victim.pid, sink.port);
          // Its sessions, for sure: the lookup made at connect time may not have run before the process died.
          for (const port of ports) {
            const session = sessionOfPort.get(port);
            if (session !== undefined) ownerAtKill.set(session, victim.pid);
          }
          record.inSmtpTransaction = sink.sending().some((s) => ports.has(s.remotePort));
        }
        try {
          record.at = Date.now();
          note(`SIGKILL ${victim.label} pid ${victim.pid}${record.inSmtpTransaction ? ' (in an SMTP transaction)' : ''}`);
          const kill = replicas.kill(victim);
          faults.kills.push(record);
          faults.killsPerService[victim.key] += 1;
          await kill;
        } catch (err) {
          faults.faultErrors.push(`kill ${victim.label}: ${message(err)}`);
          continue;
        }
        restartLater(victim);
      }
    };
    const cutter = async () => {
      if (cutEveryMs <= 0) return;
      while (await pause(jitter(cutEveryMs))) {
        try {
          const found = await connectionsNamed(broker, serviceConnectionNames);
          note(`cutting ${found.length} service connections from the broker side`);
          await cutConnections(broker, found);
          faults.cuts += 1;
          faults.connectionsCut += found.length;
        } catch (err) {
          faults.faultErrors.push(`cut: ${message(err)}`);
        }
      }
    };

    // 5. the load
    const loadMs = Math.round(options.minutes * 60_000);
    const loadStart = Date.now();
    const loadEnd = loadStart + loadMs;
    const clientDeadline = loadEnd + drainTimeoutMs;
    const retrying = async <T>(fn: () => Promise<T>): Promise<T> => {
      for (;;) {
        try {
          return await fn();
        } catch (err) {
          if (!transient(err) || Date.now() > clientDeadline) throw err;
          retried(err);
          await sleep(150 + Math.random() * 350);
        }
      }
    };
    const pollRide = async (rideId: string, until: (r: RideView) => boolean): Promise<RideView | undefined> => {
      while (Date.now() < clientDeadline) {
        try {
          const ride = await api.getRide(rideId);
          if (until(ride)) return ride;
        } catch (err) {
          if (!transient(err)) throw err;
          retried(err);
        }
        await sleep(400 + Math.random() * 200);
      }
      return undefined;
    };
    /** A rider action; a 409 means the ride is no longer where the action applies (say, a retry after it went through). */
    const act = async (saga: Saga, what: string, fn: () => Promise<void>) => {
      try {
        await retrying(fn);
      } catch (err) {
        if (err instanceof HttpError && err.status === 409) saga.notes.push(`${what} answered 409`);
        else throw err;
      }
    };
    const runSaga = async (saga: Saga) => {
      const spec = pathSpecs[saga.path];
      const rider = riders[saga.riderIndex];
      if (!rider) throw new Error(`no rider ${saga.riderIndex}`);
      const pickup: Point = spec.far
        ? offset(nowhere, Math.random() * 2 - 1, Math.random() * 2 - 1)
        : offset(center, Math.random() - 0.5, Math.random() - 0.5);
      const dropoff = offset(pickup, 2 + Math.random() * 3, 1 + Math.random() * 2);
      const accepted = await retrying(() =>
        api.requestRide({ riderId: rider.id, pickup, dropoff, paymentMethod: spec.paymentMethod }, saga.key),
      );
      saga.rideId = accepted.rideId;
      const rideId = accepted.rideId;
      if (saga.path === 'complete' || saga.path === 'flaky') {
        const ride = await pollRide(rideId, (r) => r.status === 'CONFIRMED' || terminal.has(r.status));
        if (!ride) {
          saga.notes.push('never CONFIRMED while the client waited');
          return;
        }
        if (ride.status !== 'CONFIRMED') return;
        await act(saga, 'POST /rides/:id/complete', () => api.completeRide(rideId));
      } else if (saga.path === 'cancel') {
        await sleep(100 + Math.random() * 900);
        await act(saga, 'POST /rides/:id/cancel', () => api.cancelRide(rideId));
      }
    };

    const showProgress = () => {
      const up = replicas.up().length;
      const t = Math.round((Date.now() - loadStart) / 1000);
      say(
        `t+${t}s: ${sagas.length} sagas started, ${endedRides.size} ended | ${up}/${replicas.replicas().length} replicas up | ` +
          `${faults.kills.length} kills, ${faults.cuts} cuts, ${faults.duplicatesSameId + faults.duplicatesNewId} duplicates`,
      );
    };
    progressTimer = setInterval(showProgress, 15_000);

    duplicating = duplicateShare > 0;
    const faultLoops = Promise.all([killer(), cutter()]);
    note(`load and faults begin`);
    say(
      `load: ${options.rate}/s for ${(loadMs / 1000).toFixed(0)} s over ${options.replicas} replica(s) per service; ` +
        `SIGKILL every ~${killEveryMs / 1000} s, broker cuts every ~${cutEveryMs / 1000} s, ${(duplicateShare * 100).toFixed(0)} % republished`,
    );
    const interval = 1000 / options.rate;
    for (let n = 0; ; n += 1) {
      const due = loadStart + n * interval;
      if (due >= loadEnd) break;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
      const saga: Saga = {
        n,
        path: pickPath(mix),
        riderIndex: n % riders.length,
        key: randomUUID(),
        startedAt: Date.now(),
        notes: [],
        settled: false,
      };
      saga.done = runSaga(saga)
        .catch((err: unknown) => {
          saga.clientError = message(err);
        })
        .finally(() => {
          saga.settled = true;
        });
      sagas.push(saga);
    }

    // 6. the faults stop with the load; every replica up again
    duplicating = false;
    faultsStop.abort();
    await faultLoops;
    await Promise.all([...pendingDuplicates]);
    await Promise.all([...pendingRestarts]);
    for (const r of replicas.replicas().filter((x) => x.state === 'down')) {
      await replicas.restart(r).catch((err: unknown) => faults.restartFailures.push(`${r.label} after the load: ${message(err)}`));
    }
    const drainStart = Date.now();
    note(`load and faults over: draining`);
    say(
      `load over: ${sagas.length} sagas started; ${faults.kills.length} kills, ${faults.cuts} cuts, ` +
        `${faults.duplicatesSameId + faults.duplicatesNewId} duplicates; draining (at most ${drainTimeoutMs / 1000} s)`,
    );

    // 7. the drain: until every client is done, every ride terminal, every outbox empty and every queue empty, for 6 s
    const rideEnds = new Map<string, RideView>();
    const outboxesNow = async () =>
      Promise.all(
        replicas.replicas().map(async (r) => {
          try {
            const res = await fetch(`${r.url}/metrics`, { signal: AbortSignal.timeout(5_000) });
            return { replica: r.label, pending: metricValue(await res.text(), 'outbox_pending') };
          } catch {
            return { replica: r.label, pending: undefined };
          }
        }),
      );
    const vhost = encodeURIComponent(vhostOf(broker.url));
    const queuesNow = async (): Promise<Array<{ name: string; messages: number }>> => {
      const res = await management(broker, 'GET', `/queues/${vhost}?columns=name,messages`);
      if (res.status !== 200 || !Array.isArray(res.body)) throw new Error(`management GET /queues answered ${res.status}`);
      return (res.body as Array<{ name?: unknown; messages?: unknown }>)
        .filter((q) => typeof q.name === 'string' && q.name.startsWith(brokerPrefix) && !q.name.endsWith('.dlq') && q.name !== tapQueue)
        .map((q) => ({ name: String(q.name), messages: Number(q.messages ?? 0) }));
    };
    let quietSince: number | undefined;
    let quietWhy: string[] = ['not checked yet'];
    const drainDeadline = drainStart + drainTimeoutMs;
    while (Date.now() < drainDeadline) {
      const why: string[] = [];
      const working = sagas.filter((s) => !s.settled).length;
      if (working > 0) why.push(`${working} clients still at work`);
      const open = sagas.filter((s) => s.rideId && !rideEnds.has(s.rideId));
      await inBatches(open, 8, async (s) => {
        try {
          const ride = await api.getRide(s.rideId as string);
          if (terminal.has(ride.status)) rideEnds.set(ride.id, ride);
        } catch {
          // read again next round
        }
      });
      const stillOpen = sagas.filter((s) => s.rideId && !rideEnds.has(s.rideId)).length;
      if (stillOpen > 0) why.push(`${stillOpen} rides not ended`);
      const pending = (await outboxesNow()).filter((o) => o.pending !== 0);
      if (pending.length > 0) why.push(`outbox_pending on ${pending.map((o) => `${o.replica}=${o.pending ?? '?'}`).join(', ')}`);
      try {
        const busy = (await queuesNow()).filter((q) => q.messages > 0);
        if (busy.length > 0) why.push(`queued: ${busy.map((q) => `${q.name.slice(brokerPrefix.length)}=${q.messages}`).join(', ')}`);
      } catch (err) {
        why.push(message(err));
      }
      quietWhy = why;
      if (why.length === 0) {
        quietSince ??= Date.now();
        if (Date.now() - quietSince >= 6_000) break;
      } else quietSince = undefined;
      await sleep(2_000);
    }
    const quiet = quietSince !== undefined && Date.now() - quietSince >= 6_000;
    const drainMs = Date.now() - drainStart;
    clearInterval(progressTimer);
    say(
      quiet
        ? `quiet ${(drainMs / 1000).toFixed(1)} s after the load`
        : `NOT quiet after ${(drainMs / 1000).toFixed(0)} s: ${quietWhy.join('; ')}`,
    );

    // 8. what the services say now: each saga's ride, payments and notifications
    const views = new Map<string, { ride?: RideView; payments: PaymentView[]; notifications: NotificationView[] }>();
    await inBatches(
      sagas.filter((s) => s.rideId),
      12,
      async (s) => {
        const id = s.rideId as string;
        const [ride, payments, notifications] = await Promise.all([
          retrying(() => api.getRide(id)).catch(() => undefined),
          retrying(() => api.listPayments({ rideId: id })).catch(() => [] as PaymentView[]),
          retrying(() => api.listNotifications({ rideId: id })).catch(() => [] as NotificationView[]),
        ]);
        views.set(id, { ride, payments, notifications });
      },
    );

    // parked messages, by service, type and reason
    const parkedMessages: Array<{ service: string; type: string; reason: string; rideId: string }> = [];
    const dlqConnection = await connectToAnyNode(broker.url);
    try {
      for (const s of services) {
        const outcome = await handleParked(dlqConnection, {
          prefix: brokerPrefix,
          service: s.name,
          action: 'list',
          filter: {},
          dryRun: true,
        });
        for (const m of outcome.matched)
          parkedMessages.push({ service: s.name, type: m.type ?? '?', reason: m.reason ?? '?', rideId: m.rideId ?? '?' });
      }
    } finally {
      await dlqConnection.close();
    }
    const parkedGroups = new Map<string, SoakReport['parked'][number]>();
    for (const p of parkedMessages) {
      const key = `${p.service}|${p.type}|${p.reason}`;
      const g = parkedGroups.get(key) ?? { service: p.service, type: p.type, reason: p.reason, count: 0, rides: [] };
      g.count += 1;
      if (!g.rides.includes(p.rideId)) g.rides.push(p.rideId);
      parkedGroups.set(key, g);
    }
    const parkedByRide = new Map<string, string[]>();
    for (const p of parkedMessages)
      parkedByRide.set(p.rideId, [...(parkedByRide.get(p.rideId) ?? []), `${p.type} parked by ${p.service}: ${p.reason}`]);

    // the verdict per saga: at its expected end, ended otherwise, lost; doubled
    const serviceMessages = tapped.filter((m) => !injected.has(m.envelope.id));
    const publishedTwice = doubleEffectsOnTheBroker(serviceMessages);
    const twiceByRide = new Map<string, string[]>();
    for (const v of publishedTwice) if (v.rideId) twiceByRide.set(v.rideId, [...(twiceByRide.get(v.rideId) ?? []), v.detail]);
    // gateway authorizations over all payment replicas (their log lines), each repeat tied to a kill if one explains it
    const paymentById = new Map<string, PaymentView>();
    for (const v of views.values()) for (const p of v.payments) paymentById.set(p.id, p);
    const paymentKills = new Map<number, KillRecord>();
    for (const k of faults.kills) if (k.key === 'payment') paymentKills.set(k.pid, k);
    const multiple: SoakReport['authorizations']['multiple'] = [];
    let unexplainedAuthorizations = 0;
    for (const [paymentId, a] of authorizations) {
      if (a.made.length < 2) continue;
      const made = [...a.made].sort((x, y) => x.at - y.at);
      const createdAt = (paymentById.get(paymentId) as { createdAt?: unknown } | undefined)?.createdAt;
      const recordedAt = typeof createdAt === 'string' ? Date.parse(createdAt) : undefined;
      const cut = made.slice(0, -1).filter((m) => {
        const pid = m.replica.pids[m.start - 1];
        const kill = pid !== undefined ? paymentKills.get(pid) : undefined;
        return kill !== undefined && kill.at >= m.at && (recordedAt === undefined || recordedAt > kill.at);
      }).length;
      unexplainedAuthorizations += made.length - 1 - cut;
      multiple.push({
        paymentId,
        rideId: a.rideId,
        count: made.length,
        by: made.map((m) => `${m.replica.label}.${m.start} at ${new Date(m.at).toISOString().slice(11, 23)}`),
        explained: cut === made.length - 1,
      });
    }
    const authByRide = new Map(multiple.map((m) => [m.rideId, m]));

    const perPath = Object.fromEntries(
      sagaPaths.map((p) => [p, { started: 0, ended: {} as Record<string, number>, atExpectedEnd: 0, otherwise: 0 }]),
    ) as SoakReport['sagas']['perPath'];
    const lost: SagaIssue[] = [];
    const endedOtherwise: SagaIssue[] = [];
    const doubled: SagaIssue[] = [];
    for (const saga of sagas) {
      const spec = pathSpecs[saga.path];
      const stats = perPath[saga.path];
      stats.started += 1;
      if (!saga.rideId) {
        lost.push({ path: saga.path, rideId: undefined, detail: `POST /rides never accepted: ${saga.clientError ?? 'no answer'}` });
        continue;
      }
      const view = views.get(saga.rideId);
      const ride = view?.ride;
      const end = endOf(ride);
      if (ride && terminal.has(ride.status)) stats.ended[end] = (stats.ended[end] ?? 0) + 1;
      const issues: string[] = [];
      const payments = view?.payments ?? [];
      const notifications = view?.notifications ?? [];
      const rider = riders[saga.riderIndex];
      const hints = [...(parkedByRide.get(saga.rideId) ?? []), ...(saga.clientError ? [`client: ${saga.clientError}`] : []), ...saga.notes];
      const issue = (detail: string): SagaIssue => ({
        path: saga.path,
        rideId: saga.rideId,
        detail: `${detail}${hints.length > 0 ? ` [${hints.join('; ')}]` : ''}`,
      });
      if (!ride || !terminal.has(ride.status)) {
        lost.push(issue(`still ${ride?.status ?? 'unreadable'} when quiet (expected ${expectedEnd(spec)})`));
      } else if (end !== expectedEnd(spec)) {
        endedOtherwise.push(issue(`ended ${end}, expected ${expectedEnd(spec)}`));
        stats.otherwise += 1;
        // The saga's own answer when every driver nearby is busy; any other end is a lost saga.
        if (!(ride.status === 'REJECTED' && !spec.far)) lost.push(issue(`ended ${end}, expected ${expectedEnd(spec)}`));
      } else {
        const statuses = payments.map((p) => p.status).join(',');
        if (spec.payment === 'CAPTURED' && statuses !== 'CAPTURED') issues.push(`payments [${statuses}], expected one CAPTURED`);
        if (spec.payment === 'DECLINED' && statuses !== 'DECLINED') issues.push(`payments [${statuses}], expected one DECLINED`);
        if (spec.payment === 'none' && payments.length > 0) issues.push(`payments [${statuses}], expected none`);
        if (spec.payment === 'none-authorized' && payments.some((p) => p.status === 'AUTHORIZED' || p.status === 'CAPTURED'))
          issues.push(`payments [${statuses}], expected none AUTHORIZED or CAPTURED`);
        for (const template of spec.riderTemplates) {
          const mine = notifications.filter((n) => n.template === template && n.recipient.toLowerCase() === rider?.email.toLowerCase());
          if (!mine.some((n) => n.status === 'SENT'))
            issues.push(`no ${template} notification SENT to the rider (${mine.map((n) => n.status).join(',') || 'none'})`);
        }
        if (issues.length > 0) lost.push(issue(`${end}, but ${issues.join('; ')}`));
        else stats.atExpectedEnd += 1;
      }
      // doubled: two payments, two records of one notification, a fact under two ids, two gateway authorizations
      const twice: string[] = [];
      if (payments.length > 1) twice.push(`${payments.length} payments: ${payments.map((p) => `${p.id}:${p.status}`).join(', ')}`);
      const perNotification = new Map<string, number>();
      for (const n of notifications) {
        const k = `${n.recipient} ${n.template}`;
        perNotification.set(k, (perNotification.get(k) ?? 0) + 1);
      }
      for (const [k, count] of perNotification) if (count > 1) twice.push(`${count} notification records for ${k}`);
      twice.push(...(twiceByRide.get(saga.rideId) ?? []));
      const auth = authByRide.get(saga.rideId);
      if (auth && !auth.explained) twice.push(`${auth.count} gateway authorizations of ${auth.paymentId} (by ${auth.by.join(', ')})`);
      if (twice.length > 0) doubled.push(issue(twice.join('; ')));
    }

    // every replica's outbox
    const outboxes = await outboxesNow();
    const outboxesDrained = outboxes.every((o) => o.pending === 0);

    // duplicate emails, and the notification-service kills that explain them
    const notificationById = new Map<string, NotificationView>();
    for (const v of views.values()) for (const n of v.notifications) notificationById.set(n.id, n);
    const owners = new Map<string, number | undefined>();
    for (const [id, owner] of sessionOwner) owners.set(id, ownerAtKill.get(id) ?? (await owner));
    const pidKills = new Map<number, KillRecord>();
    for (const k of faults.kills) if (k.key === 'notification') pidKills.set(k.pid, k);
    /** An email its sender never recorded as sent because it was killed first: another delivery recorded (and resent) it. */
    const cutByKill = (m: SinkMessage): KillRecord | undefined => {
      const pid = owners.get(m.session.id);
      const kill = pid !== undefined ? pidKills.get(pid) : undefined;
      if (!kill || m.startedAt.getTime() > kill.at) return undefined;
      const record = notificationById.get(m.headers['x-notification-id'] ?? '');
      const sentAt = record ? (record as { sentAt?: unknown }).sentAt : undefined;
      const recordedAt = typeof sentAt === 'string' ? Date.parse(sentAt) : undefined;
      return recordedAt === undefined || recordedAt > kill.at ? kill : undefined;
    };
    for (const m of sink.messages) {
      const kill = cutByKill(m);
      if (kill) kill.unrecordedSends += 1;
    }
    const emailGroups = new Map<string, SinkMessage[]>();
    for (const m of sink.messages) {
      const key = `${m.headers['x-ride-id'] ?? '?'}|${m.to.map((t) => t.toLowerCase()).join(',')}|${m.headers['x-template'] ?? '?'}`;
      emailGroups.set(key, [...(emailGroups.get(key) ?? []), m]);
    }
    let duplicateEmails = 0;
    let unexplained = 0;
    const emailDetails: string[] = [];
    for (const [key, list] of emailGroups) {
      if (list.length < 2) continue;
      duplicateEmails += list.length - 1;
      const explained = list.filter((m) => cutByKill(m) !== undefined).length;
      const left = Math.max(0, list.length - 1 - explained);
      unexplained += left;
      const [rideId, to, template] = key.split('|');
      emailDetails.push(
        `${list.length} ${template ?? '?'} emails to ${to ?? '?'} for ride ${rideId ?? '?'} ` +
          `(${list.map((m) => `${m.receivedAt.toISOString().slice(11, 23)} by pid ${owners.get(m.session.id) ?? '?'}`).join(', ')}), ` +
          `${explained} explained by a kill between the send and its record${left > 0 ? `, ${left} NOT explained` : ''}`,
      );
    }
    const notificationKills = faults.kills.filter((k) => k.key === 'notification');

    const unlogged: string[] = [];
    for (const v of views.values())
      for (const p of v.payments)
        if (['AUTHORIZED', 'CAPTURED', 'VOIDED'].includes(p.status) && !authorizations.has(p.id))
          unlogged.push(`${p.id} (${p.status}, ride ${p.rideId})`);

    // the audit, invariants 1-6 (with the broker check of the e2e and faults lanes), once summaries had time to fold
    let audit: AuditReport | undefined;
    const auditUntil = Date.now() + 20_000;
    for (;;) {
      try {
        audit = await runAudit(replicas.urls, { messages: serviceMessages, riderIds: riders.map((r) => r.id) });
      } catch (err) {
        problems.push(`the audit could not read the services: ${message(err)}`);
        break;
      }
      if (audit.held || Date.now() > auditUntil) break;
      await sleep(2_000);
    }
    await sampleRss(true);

    result = {
      ran: {
        broker: redactAmqpUrl(broker.url),
        store: options.mongoUrl.replace(/\/\/[^@/]*@/, '//***@'),
        brokerPrefix,
        mongoDbPrefix,
        replicas: options.replicas,
        rate: options.rate,
        minutes: options.minutes,
        drivers: driverCount,
        riders: riders.length,
        startupMs,
        loadMs,
        drainMs,
        countMs: Date.now() - drainStart - drainMs,
        teardownMs: 0,
        totalMs: 0,
        quiet,
        quietWhy: quiet ? [] : quietWhy,
        logFile,
      },
      sagas: {
        started: sagas.length,
        perPath,
        endedOtherwise,
        lost,
        doubled,
        clientHttpRetries,
        clientRetryReasons: [...retryReasons].sort((a, b) => b[1] - a[1]).map(([reason, count]) => ({ reason, count })),
      },
      faults,
      broker: {
        messagesSeen: tapped.length,
        notEnvelopes,
        publishedTwice: publishedTwice.map((v) => ({
          path: sagaOf(sagas, v.rideId)?.path ?? 'complete',
          rideId: v.rideId,
          detail: v.detail,
        })),
      },
      parked: [...parkedGroups.values()],
      parkedTotal: parkedMessages.length,
      outboxes,
      outboxesDrained,
      emails: {
        total: sink.messages.length,
        duplicates: duplicateEmails,
        unexplained,
        details: emailDetails,
        notificationKills: notificationKills.length,
        killsDuringSend: notificationKills.filter((k) => k.inSmtpTransaction || k.unrecordedSends > 0).length,
        sendsCutByKills: notificationKills.reduce((sum, k) => sum + k.unrecordedSends, 0),
      },
      authorizations: {
        total: [...authorizations.values()].reduce((sum, a) => sum + a.made.length, 0),
        payments: authorizations.size,
        maxPerPayment: Math.max(0, ...[...authorizations.values()].map((a) => a.made.length)),
        multiple,
        unexplained: unexplainedAuthorizations,
        unlogged,
      },
      rss,
      errorLines,
      audit,
      auditLines: audit ? formatAudit(audit) : [],
      exitCodes: {},
      problems,
    };
  } finally {
    teardownStart = Date.now();
    faultsStop.abort();
    duplicating = false;
    if (sampler) clearInterval(sampler);
    if (progressTimer) clearInterval(progressTimer);
    await Promise.allSettled([...pendingDuplicates, ...pendingRestarts]);
    if (injector) await injector.close().catch(() => undefined);
    if (tapConnection) await tapConnection.close().catch(() => undefined);
    if (set) exitCodes = await set.stop();
    await sink.stop();
    await deleteDeclared(broker, brokerPrefix).catch((err: unknown) =>
      say(`could not delete the broker objects under ${brokerPrefix}: ${message(err)}`),
    );
    try {
      await dropLaneDatabases(options.mongoUrl, mongoDbPrefix);
    } catch (err) {
      say(`could not drop the databases ${mongoDbPrefix}*: ${message(err)}`);
    }
    await new Promise<void>((resolve) => log.end(resolve));
  }

  if (!result) throw new Error('the soak ended without a report');
  result.exitCodes = exitCodes;
  result.ran.teardownMs = Date.now() - (teardownStart ?? began);
  result.ran.totalMs = Date.now() - began;
  result.problems.push(...problemsOf(result));
  if (options.removeLogOnPass && result.problems.length === 0) {
    fs.rmSync(options.logFile === undefined ? path.dirname(logFile) : logFile, { recursive: true, force: true });
    result.ran.logFile = `${logFile} (removed: the soak passed)`;
  }
  return result;
}

function sagaOf(sagas: readonly Saga[], rideId: string | undefined): Saga | undefined {
  return rideId ? sagas.find((s) => s.rideId === rideId) : undefined;
}

/** Why a report fails the soak: lost or doubled sagas, and what the short form asserts besides. */
function problemsOf(r: SoakReport): string[] {
  const out: string[] = [];
  const list = (issues: SagaIssue[]) =>
    issues
      .slice(0, 10)
      .map((i) => `\n    - ${i.path} ride ${i.rideId ?? '(none)'}: ${i.detail}`)
      .join('') + (issues.length > 10 ? `\n    … and ${issues.length - 10} more` : '');
  if (!r.ran.quiet) out.push(`not quiet ${(r.ran.drainMs / 1000).toFixed(0)} s after the load: ${r.ran.quietWhy.join('; ')}`);
  if (r.sagas.lost.length > 0) out.push(`${r.sagas.lost.length} saga(s) lost (not at their expected end when quiet):${list(r.sagas.lost)}`);
  if (r.sagas.doubled.length > 0) out.push(`${r.sagas.doubled.length} saga(s) doubled:${list(r.sagas.doubled)}`);
  if (!r.outboxesDrained)
    out.push(
      `outboxes not drained: ${r.outboxes
        .filter((o) => o.pending !== 0)
        .map((o) => `${o.replica} outbox_pending=${o.pending ?? 'unreadable'}`)
        .join(', ')}`,
    );
  if (r.audit && !r.audit.held)
    out.push(`the audit failed (exit code ${r.audit.exitCode}):\n    ${r.auditLines.filter((l) => !l.includes('✔')).join('\n    ')}`);
  if (r.authorizations.unexplained > 0)
    out.push(
      `${r.authorizations.unexplained} gateway authorization(s) repeated with no kill between the first and its record: ${r.authorizations.multiple
        .filter((m) => !m.explained)
        .map((m) => `${m.paymentId} (ride ${m.rideId}) ×${m.count} by ${m.by.join(', ')}`)
        .join('; ')}`,
    );
  if (r.emails.unexplained > 0)
    out.push(
      `${r.emails.unexplained} duplicate email(s) no kill explains:\n    - ${r.emails.details.filter((d) => d.includes('NOT')).join('\n    - ')}`,
    );
  if (r.faults.restartFailures.length > 0) out.push(`replicas that could not be restarted: ${r.faults.restartFailures.join('; ')}`);
  return out;
}

/** One line of counts, for the lane banner. */
export function soakCounts(r: SoakReport): string {
  const dup = r.faults.duplicatesSameId + r.faults.duplicatesNewId;
  return (
    `${r.sagas.started} sagas at ${r.ran.rate}/s over ${r.ran.replicas} replicas per service: ${r.sagas.lost.length} lost, ` +
    `${r.sagas.doubled.length} doubled, ${r.sagas.endedOtherwise.length} ended otherwise, ${r.parkedTotal} parked; ` +
    `${r.faults.kills.length} kills, ${r.faults.cuts} broker cuts, ${dup} duplicates; ` +
    `${r.emails.duplicates} duplicate emails beside ${r.emails.killsDuringSend} kills during a send; ` +
    `max ${r.authorizations.maxPerPayment} gateway authorization(s) per payment (${r.authorizations.multiple.length} repeated, ${r.authorizations.unexplained} unexplained); ` +
    `audit ${r.audit?.held ? 'held' : 'FAILED'}`
  );
}

/** The final counts as lines of text. */
export function formatSoakReport(r: SoakReport): string[] {
  const lines: string[] = [];
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  lines.push(
    `soak: ${r.ran.minutes} min of load at ${r.ran.rate} sagas/s, ${r.ran.replicas} replica(s) per service, against ${r.ran.broker} + ${r.ran.store}`,
  );
  lines.push(
    `  timings: startup ${s(r.ran.startupMs)}, load ${s(r.ran.loadMs)}, drain ${s(r.ran.drainMs)} (${r.ran.quiet ? 'quiet' : 'NOT quiet'}), ` +
      `counts and audit ${s(r.ran.countMs)}, teardown ${s(r.ran.teardownMs)}, total ${s(r.ran.totalMs)}`,
  );
  lines.push(
    `sagas started: ${r.sagas.started} (${r.ran.riders} riders, ${r.ran.drivers} drivers; ${r.sagas.clientHttpRetries} client HTTP retries` +
      `${
        r.sagas.clientRetryReasons.length > 0
          ? `: ${r.sagas.clientRetryReasons
              .slice(0, 3)
              .map((x) => `${x.count} × ${x.reason}`)
              .join(', ')}`
          : ''
      })`,
  );
  for (const p of sagaPaths) {
    const st = r.sagas.perPath[p];
    const ended = Object.entries(st.ended)
      .map(([end, n]) => `${end} ${n}`)
      .join(', ');
    lines.push(
      `  ${pathSpecs[p].title.padEnd(28)} ${String(st.started).padStart(5)} started → ${ended || 'none ended'}  (expected ${expectedEnd(pathSpecs[p])}: ${st.atExpectedEnd}, otherwise: ${st.otherwise})`,
    );
  }
  lines.push(`ended otherwise than expected: ${r.sagas.endedOtherwise.length}`);
  for (const i of r.sagas.endedOtherwise.slice(0, 5)) lines.push(`  - ${i.path} ride ${i.rideId ?? '-'}: ${i.detail}`);
  lines.push(`lost: ${r.sagas.lost.length}`);
  for (const i of r.sagas.lost.slice(0, 10)) lines.push(`  - ${i.path} ride ${i.rideId ?? '-'}: ${i.detail}`);
  lines.push(
    `doubled: ${r.sagas.doubled.length} (two payments for a ride, two notification records for one ride+recipient+template, ` +
      `a fact published twice under different ids: ${r.broker.publishedTwice.length}, two gateway authorizations)`,
  );
  for (const i of r.sagas.doubled.slice(0, 10)) lines.push(`  - ${i.path} ride ${i.rideId ?? '-'}: ${i.detail}`);
  lines.push(`parked: ${r.parkedTotal}`);
  for (const p of r.parked)
    lines.push(
      `  - ${p.count} × ${p.type} in ${p.service}.dlq: ${p.reason} (rides ${p.rides.slice(0, 3).join(', ')}${p.rides.length > 3 ? ', …' : ''})`,
    );
  lines.push(
    `outboxes drained: ${r.outboxesDrained ? 'yes' : 'NO'} (outbox_pending ${r.outboxes.map((o) => `${o.replica}=${o.pending ?? '?'}`).join(', ')})`,
  );
  lines.push(
    `duplicate emails: ${r.emails.duplicates} of ${r.emails.total} (${r.emails.unexplained} unexplained), beside ${r.emails.killsDuringSend} of ` +
      `${r.emails.notificationKills} notification-service kills that landed during a send (${r.emails.sendsCutByKills} sends cut between the SMTP answer and its record)`,
  );
  for (const d of r.emails.details.slice(0, 5)) lines.push(`  - ${d}`);
  const explainedRepeats = r.authorizations.multiple.filter((m) => m.explained).length;
  lines.push(
    `gateway authorizations: ${r.authorizations.total} for ${r.authorizations.payments} payments over all payment-service replicas, ` +
      `at most ${r.authorizations.maxPerPayment} per payment; ${r.authorizations.multiple.length} payment(s) authorized more than once ` +
      `(${explainedRepeats} after a kill between the gateway call and its record, which a shared gateway answers from the idempotency key; ` +
      `${r.authorizations.unexplained} repeat(s) unexplained)` +
      (r.authorizations.unlogged.length > 0
        ? `; ${r.authorizations.unlogged.length} payment(s) with no logged authorization: ${r.authorizations.unlogged.slice(0, 3).join(', ')}`
        : ''),
  );
  for (const m of r.authorizations.multiple.slice(0, 5))
    lines.push(
      `  - ${m.paymentId} (ride ${m.rideId}) ×${m.count}: ${m.by.join(', ')}${m.explained ? ' (the first one killed before its record)' : ' NOT explained'}`,
    );
  const perService = serviceKeys.map((k) => `${serviceName(k)} ${r.faults.killsPerService[k]}`).join(', ');
  lines.push(
    `faults: ${r.faults.kills.length} SIGKILLs (${perService}), ${r.faults.restarts} restarts; ${r.faults.cuts} broker-side cuts ` +
      `(${r.faults.connectionsCut} connections); ${r.faults.duplicatesSameId + r.faults.duplicatesNewId} republished ` +
      `(${r.faults.duplicatesSameId} same id, ${r.faults.duplicatesNewId} new id, ${r.faults.duplicatesDelayed} late); ` +
      `${r.broker.messagesSeen} messages seen on the tap${r.broker.notEnvelopes > 0 ? ` (${r.broker.notEnvelopes} not envelopes)` : ''}`,
  );
  for (const e of [...r.faults.restartFailures, ...r.faults.faultErrors].slice(0, 5)) lines.push(`  ! ${e}`);
  lines.push('RSS per service, MB (peak; at the end per replica; max per minute):');
  for (const k of serviceKeys) {
    const m = r.rss[k];
    const end = Object.entries(m.endKb)
      .map(([label, kb]) => `${label.slice(label.indexOf('#'))} ${mb(kb)}`)
      .join(', ');
    lines.push(
      `  ${serviceName(k).padEnd(21)} peak ${mb(m.peakKb)} (${m.peakReplica || '-'}); end ${end || '-'}; per minute ${m.perMinuteKb.map((kb) => mb(kb ?? 0)).join(' → ')}`,
    );
  }
  lines.push(
    `error log lines: ${serviceKeys.map((k) => `${serviceName(k)} ${r.errorLines[k]}`).join(', ')} (all output in ${r.ran.logFile})`,
  );
  lines.push(
    `exit codes after SIGTERM: ${Object.entries(r.exitCodes)
      .map(([l, c]) => `${l} ${c}`)
      .join(', ')}`,
  );
  lines.push('audit (invariants 1-6):');
  for (const l of r.auditLines) lines.push(`  ${l}`);
  lines.push(r.problems.length === 0 ? 'soak: PASSED' : `soak: FAILED\n  - ${r.problems.join('\n  - ')}`);
  return lines;
}
