// Starts the four services for a benchmark: in this process (their start() over given stores) or as four child processes.
import { MemoryStore, type Env, type RunningService } from '@ridehail/shared';
import { start as startDriver } from '../../driver-service/src/main';
import { start as startNotification } from '../../notification-service/src/main';
import { start as startPayment } from '../../payment-service/src/main';
import { start as startRide } from '../../ride-service/src/main';
import type { ServiceInfo, ServiceKey, ServiceUrls } from '../lib/services';
import { startSmtpSink, type SmtpSink } from '../lib/smtp';
import { startStack } from '../lib/stack';

/** in-process: one Node process (one core) runs all four; processes: four Node processes the OS spreads over the cores. */
export type SagaMode = 'in-process' | 'processes';

export interface BenchServicesOptions {
  mode: SagaMode;
  amqpUrl: string;
  brokerPrefix: string;
  /** Unset: in-memory stores. */
  mongoUrl?: string;
  mongoDbPrefix: string;
  logLevel?: string;
}

export interface BenchServices {
  mode: SagaMode;
  urls: ServiceUrls;
  /** 'memory' or the MongoDB URL the services use. */
  store: string;
  /** The in-process services' handles (empty for child processes): their stores can be read directly. */
  running: Partial<Record<ServiceKey, RunningService>>;
  smtp?: SmtpSink;
  /** Process ids of the child processes (empty in-process: the services run in the bench process). */
  pids: Partial<Record<ServiceKey, number>>;
  /** warn/error lines the child processes printed (the in-process ones print straight to stdout). */
  serviceWarnings: string[];
  stop(): Promise<void>;
}

export async function startBenchServices(options: BenchServicesOptions): Promise<BenchServices> {
  return options.mode === 'in-process' ? startInProcess(options) : startProcesses(options);
}

async function startInProcess(options: BenchServicesOptions): Promise<BenchServices> {
  const smtp = await startSmtpSink();
  const env: Env = {
    PORT: '0',
    AMQP_URL: options.amqpUrl,
    BROKER_PREFIX: options.brokerPrefix,
    MONGO_DB_PREFIX: options.mongoDbPrefix,
    LOG_LEVEL: options.logLevel ?? 'warn',
    SMTP_URL: smtp.url,
  };
  if (options.mongoUrl) env.MONGO_URL = options.mongoUrl;
  // With MONGO_URL each service opens its own MongoStore from the env; `{}` (not undefined) keeps signal handlers off.
  const storeFor = () => (options.mongoUrl ? {} : { store: new MemoryStore() });
  const running: Partial<Record<ServiceKey, RunningService>> = {};
  const stopAll = async (): Promise<void> => {
    // Reverse order of the saga: the consumers of a service's events stop after it, so nothing is left half-handled.
    for (const key of ['ride', 'driver', 'payment', 'notification'] as const) {
      const svc = running[key];
      if (svc) await svc.stop();
    }
    await smtp.close();
  };
  try {
    running.notification = await startNotification(env, storeFor());
    running.payment = await startPayment(env, storeFor());
    running.driver = await startDriver(env, storeFor());
    running.ride = await startRide(env, storeFor());
  } catch (err) {
    await stopAll().catch(() => undefined);
    throw err;
  }
  await waitReady(Object.values(running).map((s) => s.url));
  const urls = {
    ride: (running.ride as RunningService).url,
    driver: (running.driver as RunningService).url,
    payment: (running.payment as RunningService).url,
    notification: (running.notification as RunningService).url,
  };
  return { mode: 'in-process', urls, store: options.mongoUrl ?? 'memory', running, smtp, pids: {}, serviceWarnings: [], stop: stopAll };
}

async function startProcesses(options: BenchServicesOptions): Promise<BenchServices> {
  const serviceWarnings: string[] = [];
  const output = (service: ServiceInfo, line: string): void => {
    if (/"level":"(warn|error)"/.test(line) || !line.startsWith('{')) serviceWarnings.push(`[${service.name}] ${line}`);
  };
  const stack = await startStack({
    amqpUrl: options.amqpUrl,
    brokerPrefix: options.brokerPrefix,
    mongoUrl: options.mongoUrl,
    mongoDbPrefix: options.mongoDbPrefix,
    ports: 'free',
    logLevel: options.logLevel ?? 'warn',
    output,
  });
  return {
    mode: 'processes',
    urls: stack.urls,
    store: stack.store,
    running: {},
    smtp: stack.smtp,
    pids: Object.fromEntries(stack.processes.map((p) => [p.service.key, p.pid])),
    serviceWarnings,
    stop: async () => {
      const codes = await stack.stop();
      const bad = Object.entries(codes).filter(([, code]) => code !== 0);
      if (bad.length > 0) serviceWarnings.push(`services exited with ${bad.map(([n, c]) => `${n}=${String(c)}`).join(', ')}`);
    },
  };
}

async function waitReady(urls: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const url of urls) {
    for (;;) {
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) }).catch(() => null);
      if (res?.status === 200) break;
      if (Date.now() > deadline) throw new Error(`${url}/readyz did not answer 200 within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
