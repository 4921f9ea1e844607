// Starts the four services for a benchmark as four child processes (the stack of `npm run stack`): the bench reaches them only over HTTP and the broker.
import type { ServiceInfo, ServiceKey, ServiceUrls } from '../../test/support/system/services';
import { startStack } from '../../test/support/system/stack';

export interface BenchServicesOptions {
  amqpUrl: string;
  brokerPrefix: string;
  /** Unset: in-memory stores (each inside its service's process). */
  mongoUrl?: string;
  mongoDbPrefix: string;
  logLevel?: string;
  /** Which services (all four by default). */
  only?: readonly ServiceKey[];
  /** Extra variables for every service. */
  env?: Record<string, string>;
}

export interface BenchServices {
  urls: ServiceUrls;
  /** 'memory' or the MongoDB URL the services use. */
  store: string;
  /** Process ids of the services, for their CPU time. */
  pids: Partial<Record<ServiceKey, number>>;
  /** warn/error lines the services printed. */
  serviceWarnings: string[];
  stop(): Promise<void>;
}

export async function startBenchServices(options: BenchServicesOptions): Promise<BenchServices> {
  const serviceWarnings: string[] = [];
  const output = (service: ServiceInfo, line: string): void => {
    if (/"level":"(warn|error)"/.test(line) || !line.startsWith('{')) serviceWarnings.push(`[${service.name}] ${line}`);
  };
  const stack = await startStack({
    ...(options.only ? { only: options.only } : {}),
    ...(options.env ? { env: options.env } : {}),
    amqpUrl: options.amqpUrl,
    brokerPrefix: options.brokerPrefix,
    mongoUrl: options.mongoUrl,
    mongoDbPrefix: options.mongoDbPrefix,
    ports: 'free',
    logLevel: options.logLevel ?? 'warn',
    output,
  });
  return {
    urls: stack.urls,
    store: stack.store,
    pids: Object.fromEntries(stack.processes.map((p) => [p.service.key, p.pid])),
    serviceWarnings,
    stop: async () => {
      const codes = await stack.stop();
      const bad = Object.entries(codes).filter(([, code]) => code !== 0);
      if (bad.length > 0) serviceWarnings.push(`services exited with ${bad.map(([n, c]) => `${n}=${String(c)}`).join(', ')}`);
    },
  };
}
