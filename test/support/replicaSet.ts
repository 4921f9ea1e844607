// N processes per service, each its own one-service stack on its own port: killable and restartable one by one.
import { freePort, startStack, type Stack, type StackOptions } from './system/stack';
import { serviceKeys, serviceName, type ServiceKey, type ServiceUrls } from './system/services';

export type ReplicaState = 'starting' | 'up' | 'down';

export interface Replica {
  key: ServiceKey;
  /** 1..N within its service. */
  index: number;
  /** e.g. `payment-service#2`. */
  label: string;
  port: number;
  url: string;
  state: ReplicaState;
  /** The current process, while there is one. */
  pid: number | undefined;
  /** Every pid this replica has had, in order. */
  pids: number[];
  starts: number;
  kills: number;
}

/** A line of a replica's output; `start` counts its starts (1 for the first process, 2 after the first restart…). */
export type ReplicaOutput = (replica: Replica, start: number, line: string, stream: 'stdout' | 'stderr') => void;

export interface ReplicaSetOptions {
  /** Processes per service. */
  replicas: number;
  /** Handed to every startStack call (one per replica); `only`, `ports` and `output` are the set's own. */
  stack: Omit<StackOptions, 'only' | 'ports' | 'output' | 'logLevel'>;
  /** LOG_LEVEL per service (default: stack's default). */
  logLevel?: (key: ServiceKey) => string;
  output?: ReplicaOutput;
}

/**
 * The four services, each as `replicas` separate processes started with `startStack({ only: [key], ports })` on a
 * port of its own, so that any one of them can be killed and started again on its port while the others run. `urls`
 * answers each service's URL round-robin over the replicas that are up, so HTTP clients spread over them and avoid
 * the ones killed.
 */
export class ReplicaSet {
  readonly urls: ServiceUrls;
  private readonly all: Replica[] = [];
  private readonly stacks = new Map<Replica, Stack>();
  private readonly turn = new Map<ServiceKey, number>();
  private stopping = false;

  private constructor(private readonly options: ReplicaSetOptions) {
    this.urls = new Proxy({} as ServiceUrls, {
      get: (_target, key) =>
        typeof key === 'string' && serviceKeys.includes(key as ServiceKey) ? this.nextUrl(key as ServiceKey) : undefined,
    });
  }

  static async start(options: ReplicaSetOptions): Promise<ReplicaSet> {
    if (!Number.isInteger(options.replicas) || options.replicas < 1)
      throw new Error(`replicas must be a positive integer, not ${options.replicas}`);
    // In-memory stores live in each process: replicas would each see their own world, and sagas would break.
    if (options.replicas > 1 && !options.stack.mongoUrl)
      throw new Error('several replicas of a service need a shared store: give stack.mongoUrl');
    const set = new ReplicaSet(options);
    for (const key of serviceKeys) {
      for (let index = 1; index <= options.replicas; index += 1) {
        const port = await freePort();
        set.all.push({
          key,
          index,
          label: `${serviceName(key)}#${index}`,
          port,
          url: `http://127.0.0.1:${port}`,
          state: 'down',
          pid: undefined,
          pids: [],
          starts: 0,
          kills: 0,
        });
      }
    }
    const started = await Promise.allSettled(set.all.map((r) => set.startOne(r)));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      await set.stop();
      throw failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));
    }
    return set;
  }

  replicas(key?: ServiceKey): Replica[] {
    return key ? this.all.filter((r) => r.key === key) : [...this.all];
  }

  up(key?: ServiceKey): Replica[] {
    return this.replicas(key).filter((r) => r.state === 'up');
  }

  /** Every pid that runs now (starting or up). */
  livePids(key?: ServiceKey): number[] {
    return this.replicas(key).flatMap((r) => (r.pid !== undefined && r.state !== 'down' ? [r.pid] : []));
  }

  /** True when killing `replica` leaves at least one other replica of its service up. */
  canKill(replica: Replica): boolean {
    return replica.state === 'up' && this.up(replica.key).length >= 2;
  }

  /** SIGKILL; resolves with how the process ended (the signal name) once it has. */
  async kill(replica: Replica): Promise<number | string> {
    const stack = this.stacks.get(replica);
    const proc = stack?.processes[0];
    if (!stack || !proc || replica.state !== 'up') throw new Error(`${replica.label} is not up`);
    replica.state = 'down';
    replica.kills += 1;
    this.stacks.delete(replica);
    process.kill(proc.pid, 'SIGKILL');
    const ended = await proc.exited;
    replica.pid = undefined;
    return ended;
  }

  /** Starts the replica again on its port with the same settings; resolves once /readyz says 200. */
  async restart(replica: Replica): Promise<void> {
    if (replica.state !== 'down') throw new Error(`${replica.label} is ${replica.state}; kill it first`);
    await this.startOne(replica);
  }

  /** SIGTERM to every running replica; resolves with their exit codes by label. */
  async stop(): Promise<Record<string, number | string>> {
    this.stopping = true;
    const running = [...this.stacks.entries()];
    this.stacks.clear();
    const codes: Record<string, number | string> = {};
    await Promise.all(
      running.map(async ([replica, stack]) => {
        const result = await stack.stop();
        replica.state = 'down';
        replica.pid = undefined;
        codes[replica.label] = Object.values(result)[0] ?? 'unknown';
      }),
    );
    return codes;
  }

  private nextUrl(key: ServiceKey): string {
    const candidates = this.up(key);
    const pool = candidates.length > 0 ? candidates : this.replicas(key);
    const n = (this.turn.get(key) ?? 0) + 1;
    this.turn.set(key, n);
    const chosen = pool[n % pool.length];
    if (!chosen) throw new Error(`no replica of ${serviceName(key)}`);
    return chosen.url;
  }

  private async startOne(replica: Replica): Promise<void> {
    if (this.stopping) throw new Error(`not starting ${replica.label}: the set is stopping`);
    replica.state = 'starting';
    replica.starts += 1;
    const start = replica.starts;
    const output = this.options.output;
    try {
      const stack = await startStack({
        ...this.options.stack,
        only: [replica.key],
        ports: { [replica.key]: replica.port },
        ...(this.options.logLevel ? { logLevel: this.options.logLevel(replica.key) } : {}),
        output: (_service, line, stream) => output?.(replica, start, line, stream),
      });
      const proc = stack.processes[0];
      if (!proc) throw new Error(`startStack started no process for ${replica.label}`);
      if (this.stopping) {
        await stack.stop();
        replica.state = 'down';
        return;
      }
      this.stacks.set(replica, stack);
      replica.pid = proc.pid;
      replica.pids.push(proc.pid);
      replica.state = 'up';
      // A replica that dies on its own (not killed here) is down, and said so.
      void proc.exited.then((code) => {
        if (this.stacks.get(replica) !== stack) return;
        this.stacks.delete(replica);
        replica.state = 'down';
        replica.pid = undefined;
        output?.(replica, start, `!!! ${replica.label} (pid ${proc.pid}) exited on its own: ${code}`, 'stderr');
      });
    } catch (err) {
      replica.state = 'down';
      throw err;
    }
  }
}
